#pragma once
// CRC-32 as in IEEE 802.3, zlib and PNG: reflected, polynomial 0xEDB88320, initial value and final
// xor 0xFFFFFFFF. The checkpoint format uses it to detect corrupted files.
//
// The running value follows zlib's convention: start from 0 (`crc32_initial`) and feed chunks in
// order; the pre- and post-inversion happen inside each call, so
//   crc32_update(crc32_update(0, a), b) == crc32_update(0, a + b).
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace netmarl {

inline constexpr std::uint32_t crc32_initial = 0;

namespace detail {

// One entry per byte value, built by the compiler: no global initialisation at run time.
constexpr std::array<std::uint32_t, 256> make_crc32_table() noexcept {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t byte = 0; byte < 256; ++byte) {
    std::uint32_t c = byte;
    for (int bit = 0; bit < 8; ++bit) c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
    table[byte] = c;
  }
  return table;
}

inline constexpr std::array<std::uint32_t, 256> crc32_table = make_crc32_table();

constexpr std::uint32_t crc32_feed(std::uint32_t crc, unsigned char byte) noexcept {
  return crc32_table[(crc ^ byte) & 0xFFu] ^ (crc >> 8);
}

}  // namespace detail

// The CRC of the bytes fed so far followed by `n` more bytes at `bytes`.
inline std::uint32_t crc32_update(std::uint32_t crc, const void* bytes, std::size_t n) noexcept {
  const auto* p = static_cast<const unsigned char*>(bytes);
  std::uint32_t c = ~crc;
  for (std::size_t i = 0; i < n; ++i) c = detail::crc32_feed(c, p[i]);
  return ~c;
}

// The same for text; constexpr so known answers can be checked at compile time.
constexpr std::uint32_t crc32_update(std::uint32_t crc, std::string_view bytes) noexcept {
  std::uint32_t c = ~crc;
  for (char ch : bytes) c = detail::crc32_feed(c, static_cast<unsigned char>(ch));
  return ~c;
}

// The CRC of one whole buffer.
inline std::uint32_t crc32(const void* bytes, std::size_t n) noexcept {
  return crc32_update(crc32_initial, bytes, n);
}
constexpr std::uint32_t crc32(std::string_view bytes) noexcept {
  return crc32_update(crc32_initial, bytes);
}

}  // namespace netmarl
