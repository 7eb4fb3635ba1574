// Counter-based random numbers: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy
// as 1, 2, 3", SC'11). A Generator is just (seed, offset): the key is the seed, the counter is
// offset + block index, so every block of 4 x 32 random bits can be computed independently and
// a draw gives the same values whatever the number of threads. Each draw advances the offset by
// the number of blocks it used.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>

namespace tgx {

namespace philox {
constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;  // round multipliers
constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;  // key increments (Weyl sequence)
constexpr int kRounds = 10;

using Block = std::array<uint32_t, 4>;

inline Block philox4x32_10(Block ctr, uint32_t k0, uint32_t k1) {
  for (int r = 0; r < kRounds; ++r) {
    if (r) { k0 += kW0; k1 += kW1; }
    uint64_t p0 = uint64_t(kM0) * ctr[0], p1 = uint64_t(kM1) * ctr[2];
    uint32_t hi0 = uint32_t(p0 >> 32), lo0 = uint32_t(p0);
    uint32_t hi1 = uint32_t(p1 >> 32), lo1 = uint32_t(p1);
    ctr = {hi1 ^ ctr[1] ^ k0, lo1, hi0 ^ ctr[3] ^ k1, lo0};
  }
  return ctr;
}

// The 128 random bits of block `index` of the stream (seed, counter base `offset`).
inline Block block(uint64_t seed, uint64_t offset, uint64_t index) {
  uint64_t c = offset + index;
  return philox4x32_10({uint32_t(c), uint32_t(c >> 32), 0u, 0u}, uint32_t(seed), uint32_t(seed >> 32));
}

// Conversions of random bits to [0, 1): 24 and 53 significant bits.
inline float to_unit_float(uint32_t x) { return float(x >> 8) * (1.0f / 16777216.0f); }
inline double to_unit_double(uint32_t lo, uint32_t hi) {
  uint64_t x = (uint64_t(hi) << 32) | lo;
  return double(x >> 11) * (1.0 / 9007199254740992.0);
}
}  // namespace philox

class Generator {
 public:
  static constexpr uint64_t kDefaultSeed = 67280421310721ull;  // PyTorch's default seed

  explicit Generator(uint64_t seed = kDefaultSeed) : seed_(seed) {}

  void manual_seed(uint64_t seed) {
    std::lock_guard<std::mutex> g(mu_);
    seed_ = seed;
    offset_ = 0;
  }
  // Seeds from a non-deterministic source and returns the new seed.
  uint64_t seed();
  uint64_t initial_seed() const {
    std::lock_guard<std::mutex> g(mu_);
    return seed_;
  }
  uint64_t offset() const {
    std::lock_guard<std::mutex> g(mu_);
    return offset_;
  }
  // Reserves `blocks` Philox blocks for one draw: returns (seed, first counter) and advances.
  std::pair<uint64_t, uint64_t> reserve(uint64_t blocks) {
    std::lock_guard<std::mutex> g(mu_);
    uint64_t start = offset_;
    offset_ += blocks;
    return {seed_, start};
  }
  // State: 16 bytes, seed then offset, little endian.
  static constexpr size_t kStateBytes = 16;
  std::array<uint8_t, kStateBytes> get_state() const;
  void set_state(const uint8_t* bytes, size_t n);

 private:
  mutable std::mutex mu_;
  uint64_t seed_;
  uint64_t offset_ = 0;
};

using GeneratorPtr = std::shared_ptr<Generator>;

// The process-wide generator behind tgx.manual_seed and draws without generator=.
const GeneratorPtr& default_generator();
inline Generator& generator_or_default(Generator* g) { return g ? *g : *default_generator(); }

}  // namespace tgx
