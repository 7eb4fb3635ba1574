// Error helpers: every failure the user can cause becomes one of these, and the bindings map
// each class to the matching Python exception. Messages start with "[op]" and carry values.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tgx {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ValueError : Error { using Error::Error; };
struct IndexError : Error { using Error::Error; };
struct TypeError : Error { using Error::Error; };
struct NotImplementedError : Error { using Error::Error; };
struct RuntimeError : Error { using Error::Error; };
struct ZeroDivisionError : Error { using Error::Error; };

inline std::ostream& operator<<(std::ostream& os, const std::vector<int64_t>& v) {
  os << '(';
  for (size_t i = 0; i < v.size(); ++i) os << (i ? ", " : "") << v[i];
  if (v.size() == 1) os << ',';
  return os << ')';
}

template <typename... Args>
std::string str(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

}  // namespace tgx

// TGX_CHECK(cond, ValueError, "[op] message ", value, ...)
#define TGX_CHECK(cond, ErrType, ...)                          \
  do {                                                         \
    if (!(cond)) throw ::tgx::ErrType(::tgx::str(__VA_ARGS__)); \
  } while (0)
