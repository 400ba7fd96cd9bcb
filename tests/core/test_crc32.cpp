#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "netmarl/core/crc32.hpp"

// The standard check value of CRC-32/ISO-HDLC (zlib, PNG, IEEE 802.3), known at compile time.
static_assert(netmarl::crc32("123456789") == 0xCBF43926u);
static_assert(netmarl::crc32("") == 0u);
static_assert(netmarl::detail::crc32_table[1] == 0x77073096u);  // first non-trivial table entry
static_assert(netmarl::detail::crc32_table[255] == 0x2D02EF8Du);

TEST_CASE("crc32: known answers", "[core][crc32]") {
  const std::string check = "123456789";
  CHECK(netmarl::crc32(check.data(), check.size()) == 0xCBF43926u);
  const std::string fox = "The quick brown fox jumps over the lazy dog";
  CHECK(netmarl::crc32(fox.data(), fox.size()) == 0x414FA339u);
  const unsigned char zeros[4] = {0, 0, 0, 0};
  CHECK(netmarl::crc32(zeros, 4) == 0x2144DF1Cu);
  CHECK(netmarl::crc32("a") == 0xE8B7BE43u);
}

TEST_CASE("crc32: incremental updates equal one pass over the whole buffer", "[core][crc32]") {
  std::vector<unsigned char> bytes(1000);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>((i * 131 + 7) % 251);
  const std::uint32_t whole = netmarl::crc32(bytes.data(), bytes.size());
  for (const std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{17}, std::size_t{999}, std::size_t{1000}}) {
    std::uint32_t crc = netmarl::crc32_initial;
    crc = netmarl::crc32_update(crc, bytes.data(), cut);
    crc = netmarl::crc32_update(crc, bytes.data() + cut, bytes.size() - cut);
    CHECK(crc == whole);
  }
  CHECK(netmarl::crc32_update(netmarl::crc32("1234"), "56789") == 0xCBF43926u);
}

TEST_CASE("crc32: a single flipped bit changes the checksum", "[core][crc32]") {
  std::string text = "netmarl checkpoint";
  const auto before = netmarl::crc32(text);
  text[5] ^= 0x10;
  CHECK(netmarl::crc32(text) != before);
}
