#include <cstdlib>
#include <new>

#include "core/storage.h"

namespace tgx {

void* cpu_alloc(size_t nbytes) {
  if (nbytes == 0) nbytes = 1;
  size_t rounded = (nbytes + kAlignment - 1) / kAlignment * kAlignment;
  if (rounded < nbytes) throw std::bad_alloc();
  void* p = std::aligned_alloc(kAlignment, rounded);
  if (!p) throw std::bad_alloc();
  return p;
}

void cpu_free(void* ptr, size_t) { std::free(ptr); }

Storage::~Storage() {
  if (release) release();
  else if (data) cpu_free(data, nbytes);
}

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  auto s = std::make_shared<Storage>();
  s->data = cpu_alloc(nbytes);
  s->nbytes = nbytes;
  s->device = device;
  return s;
}

std::shared_ptr<Storage> Storage::wrap(void* data, size_t nbytes, std::function<void()> release,
                                       Device device) {
  auto s = std::make_shared<Storage>();
  s->data = data;
  s->nbytes = nbytes;
  s->device = device;
  s->release = std::move(release);
  return s;
}

}  // namespace tgx
