#include "core/rng.h"

#include <chrono>
#include <random>

#include "core/error.h"

namespace tgx {

uint64_t Generator::seed() {
  std::random_device rd;
  uint64_t s = (uint64_t(rd()) << 32) ^ rd();
  s ^= uint64_t(std::chrono::high_resolution_clock::now().time_since_epoch().count());
  manual_seed(s);
  return s;
}

std::array<uint8_t, Generator::kStateBytes> Generator::get_state() const {
  std::lock_guard<std::mutex> g(mu_);
  std::array<uint8_t, kStateBytes> out{};
  for (int i = 0; i < 8; ++i) {
    out[i] = uint8_t(seed_ >> (8 * i));
    out[8 + i] = uint8_t(offset_ >> (8 * i));
  }
  return out;
}

void Generator::set_state(const uint8_t* bytes, size_t n) {
  TGX_CHECK(n == kStateBytes, ValueError, "[Generator.set_state] expected a state of ", kStateBytes,
            " bytes (seed and offset, as returned by get_state()), got ", n, " bytes");
  uint64_t s = 0, o = 0;
  for (int i = 0; i < 8; ++i) {
    s |= uint64_t(bytes[i]) << (8 * i);
    o |= uint64_t(bytes[8 + i]) << (8 * i);
  }
  std::lock_guard<std::mutex> g(mu_);
  seed_ = s;
  offset_ = o;
}

const GeneratorPtr& default_generator() {
  static const GeneratorPtr gen = std::make_shared<Generator>();
  return gen;
}

}  // namespace tgx
