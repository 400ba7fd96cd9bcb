#pragma once
// The netmarl checkpoint format: a versioned binary file holding any set of named float or double
// matrices (parameter values, optimizer moments, step counters).
//
// Layout, version 1. Every integer and every element is little-endian; elements are IEEE-754.
//
//   offset  bytes  field
//   0       8      magic "NETMARL\0"
//   8       4      uint32 format version (1)
//   12      4      uint32 dtype of every element: 1 = float32, 2 = float64
//   16      8      uint64 file size in bytes, this header and the trailing CRC included
//   24      8      uint64 tensor count
//   32             per tensor, in the order saved:
//                    uint32 name length n, then n bytes of name (UTF-8, no terminator)
//                    uint64 rows, uint64 cols
//                    rows * cols elements, row-major
//   size - 4  4    uint32 CRC-32 (IEEE, as zlib) of every byte before it
//
// The recorded size tells a truncated file ("truncated at byte X of Y") from a corrupted one
// (CRC mismatch). Saving writes `<path>.tmp.<pid>` and renames it over `path` only after a
// successful flush, so a crash never leaves a half-written checkpoint under the real name.
// Loading validates the whole file against the targets before writing any of them, so after any
// error the targets are unchanged. Tensors are matched by name, in any order.
#include <algorithm>
#include <bit>
#include <cerrno>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

#if defined(_WIN32)
#include <process.h>
#else
#include <unistd.h>
#endif

#include "netmarl/core/crc32.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/named_tensor.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl {

inline constexpr std::uint32_t checkpoint_format_version = 1;

template <class T>
concept CheckpointScalar = std::same_as<T, float> || std::same_as<T, double>;

struct checkpoint_load_options {
  // Tensors in the file that no target asks for are an error by default: they usually mean the
  // file belongs to another model. Set this to load a subset (e.g. only the actor).
  bool allow_extra_tensors = false;
};

namespace detail::checkpoint {

inline constexpr unsigned char magic[8] = {'N', 'E', 'T', 'M', 'A', 'R', 'L', '\0'};
inline constexpr std::size_t header_size = 32;
inline constexpr std::size_t crc_size = 4;
inline constexpr std::uint32_t dtype_float32 = 1;
inline constexpr std::uint32_t dtype_float64 = 2;

template <CheckpointScalar T>
inline constexpr std::uint32_t dtype_code = std::same_as<T, float> ? dtype_float32 : dtype_float64;

inline std::string dtype_name(std::uint32_t code) {
  if (code == dtype_float32) return "float32";
  if (code == dtype_float64) return "float64";
  return "dtype code " + std::to_string(code);
}

inline std::string prefix(const std::string& path) { return "checkpoint '" + path + "': "; }

inline std::string hex32(std::uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", static_cast<unsigned>(value));
  return text;
}

inline std::string errno_text(int code) { return std::generic_category().message(code); }

template <std::unsigned_integral U>
void put_le(unsigned char* out, U value) {
  for (std::size_t i = 0; i < sizeof(U); ++i) out[i] = static_cast<unsigned char>(value >> (8 * i));
}

template <std::unsigned_integral U>
U get_le(const unsigned char* in) {
  U value = 0;
  for (std::size_t i = 0; i < sizeof(U); ++i) value |= static_cast<U>(in[i]) << (8 * i);
  return value;
}

template <class T>
using bits_of = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

// The caller's list must name each tensor once and point at real matrices; anything else is a
// bug in the calling code, not a bad file.
template <class T>
void require_valid_list(const tensor_list<T>& tensors, const std::string& path) {
  std::unordered_map<std::string_view, std::size_t> seen;
  for (const auto& t : tensors) {
    if (t.tensor == nullptr)
      throw invalid_argument(prefix(path) + "tensor '" + t.name + "' is a null pointer");
    if (t.name.size() > std::numeric_limits<std::uint32_t>::max())
      throw invalid_argument(prefix(path) + "a tensor name is longer than 2^32 - 1 bytes");
    if (!seen.emplace(t.name, 0).second)
      throw invalid_argument(prefix(path) + "two tensors are named '" + t.name + "'");
  }
}

template <class T>
tensor_list<T> concatenate(std::initializer_list<tensor_list<T>> lists) {
  tensor_list<T> all;
  for (const auto& list : lists) all.insert(all.end(), list.begin(), list.end());
  return all;
}

// Writes to a temporary file, computing the CRC on the way; commit() renames it into place.
// Destroying an uncommitted writer closes and removes the temporary file.
class atomic_file_writer {
 public:
  explicit atomic_file_writer(const std::string& path) : path_(path) {
#if defined(_WIN32)
    const long pid = static_cast<long>(_getpid());
#else
    const long pid = static_cast<long>(::getpid());
#endif
    temp_path_ = path + ".tmp." + std::to_string(pid);
    file_ = std::fopen(temp_path_.c_str(), "wb");
    if (file_ == nullptr)
      throw io_error(prefix(path_) + "cannot create the temporary file '" + temp_path_ +
                     "': " + errno_text(errno));
  }
  atomic_file_writer(const atomic_file_writer&) = delete;
  atomic_file_writer& operator=(const atomic_file_writer&) = delete;
  ~atomic_file_writer() {
    if (file_ != nullptr) std::fclose(file_);
    if (!committed_) {
      std::error_code ignored;
      std::filesystem::remove(temp_path_, ignored);
    }
  }

  void write(const void* bytes, std::size_t n) {
    crc_ = crc32_update(crc_, bytes, n);
    if (std::fwrite(bytes, 1, n, file_) != n) fail("writing failed");
  }

  std::uint32_t crc() const { return crc_; }

  void commit() {
    if (std::fflush(file_) != 0) fail("flushing failed");
#if !defined(_WIN32)
    // Data must reach the disk before the rename does, or a crash can leave an empty file under
    // the real name on some file systems.
    if (::fsync(::fileno(file_)) != 0) fail("syncing to disk failed");
#endif
    const int closed = std::fclose(file_);
    file_ = nullptr;
    if (closed != 0) fail("closing failed");
    std::error_code ec;
    std::filesystem::rename(temp_path_, path_, ec);
    if (ec)
      throw io_error(prefix(path_) + "cannot rename '" + temp_path_ + "' into place: " + ec.message());
    committed_ = true;
  }

 private:
  [[noreturn]] void fail(const char* what) const {
    throw io_error(prefix(path_) + what + " on the temporary file '" + temp_path_ +
                   "': " + errno_text(errno));
  }

  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  std::uint32_t crc_ = crc32_initial;
  bool committed_ = false;
};

template <class T>
void write_elements(atomic_file_writer& out, const matrix<T>& m) {
  const auto n = static_cast<std::size_t>(m.size());
  if constexpr (std::endian::native == std::endian::little) {
    out.write(m.data(), n * sizeof(T));
  } else {
    unsigned char buffer[512 * sizeof(T)];
    for (std::size_t start = 0; start < n; start += 512) {
      const std::size_t count = std::min<std::size_t>(512, n - start);
      for (std::size_t i = 0; i < count; ++i)
        put_le(buffer + i * sizeof(T), std::bit_cast<bits_of<T>>(m.data()[start + i]));
      out.write(buffer, count * sizeof(T));
    }
  }
}

template <class T>
void read_elements(const unsigned char* in, matrix<T>& m) {
  const auto n = static_cast<std::size_t>(m.size());
  if constexpr (std::endian::native == std::endian::little) {
    if (n != 0) std::memcpy(m.data(), in, n * sizeof(T));
  } else {
    for (std::size_t i = 0; i < n; ++i) m.data()[i] = std::bit_cast<T>(get_le<bits_of<T>>(in + i * sizeof(T)));
  }
}

inline std::vector<unsigned char> read_whole_file(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw io_error(prefix(path) + "cannot open: " + errno_text(errno));
  std::vector<unsigned char> bytes;
  std::error_code ec;
  const auto expected = std::filesystem::file_size(path, ec);
  // Read until end of file rather than trusting the size: it may change under us.
  std::size_t chunk = ec ? std::size_t{1} << 16 : static_cast<std::size_t>(expected) + 1;
  for (;;) {
    const std::size_t used = bytes.size();
    bytes.resize(used + chunk);
    const std::size_t got = std::fread(bytes.data() + used, 1, chunk, file);
    bytes.resize(used + got);
    if (got < chunk) break;
    chunk = std::size_t{1} << 16;
  }
  const bool failed = std::ferror(file) != 0;
  const int error_code = errno;
  std::fclose(file);
  if (failed) throw io_error(prefix(path) + "reading failed: " + errno_text(error_code));
  return bytes;
}

// Where one tensor's pieces lie in a file that has passed every check.
struct entry {
  std::string_view name;
  std::uint64_t rows;
  std::uint64_t cols;
  std::size_t data_offset;
};

// Checks everything that does not depend on the targets' names and shapes (including that the
// file's dtype is `wanted_dtype`) and lists the tensors the file holds.
inline std::vector<entry> parse(const std::vector<unsigned char>& bytes, const std::string& path,
                                std::uint32_t wanted_dtype) {
  const std::size_t size = bytes.size();
  const unsigned char* data = bytes.data();
  const auto truncated_header = [&] {
    return io_error(prefix(path) + "truncated at byte " + std::to_string(size) + ": the header alone needs " +
                    std::to_string(header_size) + " bytes");
  };

  if (size == 0) throw truncated_header();
  // Magic first: a file that is not ours should say so, not complain about versions or sizes.
  if (std::memcmp(data, magic, std::min(size, sizeof magic)) != 0) {
    std::ostringstream found;
    for (std::size_t i = 0; i < std::min<std::size_t>(size, 8); ++i) {
      char byte[4];
      std::snprintf(byte, sizeof byte, "%02x", static_cast<unsigned>(data[i]));
      found << (i ? " " : "") << byte;
    }
    throw io_error(prefix(path) + "not a netmarl checkpoint (bad magic: the file starts with " +
                   found.str() + ", a checkpoint with 4e 45 54 4d 41 52 4c 00 \"NETMARL\\0\")");
  }
  if (size < 12) throw truncated_header();
  // The version before anything else: a later version may lay out the rest differently.
  const auto version = get_le<std::uint32_t>(data + 8);
  if (version != checkpoint_format_version)
    throw io_error(prefix(path) + "format version " + std::to_string(version) + ", this netmarl reads version " +
                   std::to_string(checkpoint_format_version));
  if (size < header_size) throw truncated_header();

  const auto recorded_size = get_le<std::uint64_t>(data + 16);
  if (recorded_size < header_size + crc_size)
    throw io_error(prefix(path) + "malformed header: it records a file size of " + std::to_string(recorded_size) +
                   " bytes, less than the " + std::to_string(header_size + crc_size) + " any checkpoint has");
  if (size < recorded_size)
    throw io_error(prefix(path) + "truncated at byte " + std::to_string(size) + " of " +
                   std::to_string(recorded_size));
  if (size > recorded_size)
    throw io_error(prefix(path) + std::to_string(size - recorded_size) + " unexpected bytes after byte " +
                   std::to_string(recorded_size) + ", where the header says the file ends");

  const std::size_t body_size = size - crc_size;
  const auto stored_crc = get_le<std::uint32_t>(data + body_size);
  const auto computed_crc = crc32(data, body_size);
  if (stored_crc != computed_crc)
    throw io_error(prefix(path) + "CRC mismatch (file " + hex32(stored_crc) + ", computed " + hex32(computed_crc) +
                   "): the file is corrupted");

  const auto dtype = get_le<std::uint32_t>(data + 12);
  if (dtype != dtype_float32 && dtype != dtype_float64)
    throw io_error(prefix(path) + "unknown dtype code " + std::to_string(dtype) +
                   " (1 = float32, 2 = float64)");
  if (dtype != wanted_dtype)
    throw io_error(prefix(path) + "the file holds " + dtype_name(dtype) + " tensors, the targets are " +
                   dtype_name(wanted_dtype));
  const std::size_t elem_size = dtype == dtype_float32 ? 4 : 8;

  // The CRC matched, so a failure below means the writer was broken, not the disk.
  const auto malformed = [&](const std::string& what) { return io_error(prefix(path) + "malformed: " + what); };
  const auto count = get_le<std::uint64_t>(data + 24);
  std::vector<entry> entries;
  entries.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(count, body_size / 20)));
  std::size_t offset = header_size;
  for (std::uint64_t i = 0; i < count; ++i) {
    const auto where = [&] { return "tensor #" + std::to_string(i) + " (at byte " + std::to_string(offset) + ")"; };
    if (body_size - offset < 4) throw malformed(where() + " runs past the end of the data");
    const auto name_length = get_le<std::uint32_t>(data + offset);
    if (body_size - offset - 4 < std::uint64_t{name_length} + 16)
      throw malformed(where() + " runs past the end of the data");
    const std::string_view name(reinterpret_cast<const char*>(data + offset + 4), name_length);
    const std::size_t shape_at = offset + 4 + name_length;
    const auto rows = get_le<std::uint64_t>(data + shape_at);
    const auto cols = get_le<std::uint64_t>(data + shape_at + 8);
    const std::size_t data_at = shape_at + 16;
    const std::uint64_t room = (body_size - data_at) / elem_size;
    // Written as divisions so a huge shape cannot overflow the product.
    if (rows != 0 && cols != 0 && (cols > room || rows > room / cols))
      throw malformed("tensor '" + std::string(name) + "' claims " + std::to_string(rows) + "x" +
                      std::to_string(cols) + " elements, more than the file holds");
    entries.push_back({name, rows, cols, data_at});
    offset = data_at + static_cast<std::size_t>(rows * cols) * elem_size;
  }
  if (offset != body_size)
    throw malformed(std::to_string(body_size - offset) + " bytes between the last of " + std::to_string(count) +
                    " tensors and the CRC");
  return entries;
}

}  // namespace detail::checkpoint

// Writes `tensors` to `path` (replacing any file there). Throws io_error if the file cannot be
// written (the temporary file is removed), invalid_argument for a null tensor or a repeated name.
template <CheckpointScalar T>
void save_checkpoint(const std::string& path, const tensor_list<T>& tensors) {
  namespace ck = detail::checkpoint;
  ck::require_valid_list(tensors, path);

  std::uint64_t total = ck::header_size + ck::crc_size;
  for (const auto& t : tensors)
    total += 4 + t.name.size() + 16 + static_cast<std::uint64_t>(t.tensor->size()) * sizeof(T);

  ck::atomic_file_writer out(path);
  unsigned char header[ck::header_size];
  std::memcpy(header, ck::magic, sizeof ck::magic);
  ck::put_le<std::uint32_t>(header + 8, checkpoint_format_version);
  ck::put_le<std::uint32_t>(header + 12, ck::dtype_code<T>);
  ck::put_le<std::uint64_t>(header + 16, total);
  ck::put_le<std::uint64_t>(header + 24, tensors.size());
  out.write(header, sizeof header);
  for (const auto& t : tensors) {
    unsigned char field[16];
    ck::put_le<std::uint32_t>(field, static_cast<std::uint32_t>(t.name.size()));
    out.write(field, 4);
    out.write(t.name.data(), t.name.size());
    ck::put_le<std::uint64_t>(field, static_cast<std::uint64_t>(t.tensor->rows()));
    ck::put_le<std::uint64_t>(field + 8, static_cast<std::uint64_t>(t.tensor->cols()));
    out.write(field, 16);
    ck::write_elements(out, *t.tensor);
  }
  unsigned char crc[ck::crc_size];
  ck::put_le<std::uint32_t>(crc, out.crc());
  out.write(crc, sizeof crc);
  out.commit();
}

// Several lists in one file: save_checkpoint(path, {values_of(params), optimizer.state()}).
template <CheckpointScalar T>
void save_checkpoint(const std::string& path, std::initializer_list<tensor_list<T>> lists) {
  save_checkpoint(path, detail::checkpoint::concatenate(lists));
}

// Fills every target from the tensor of the same name in `path`. The whole file is checked first
// (magic, version, size, CRC, dtype, every name and shape); on any problem it throws io_error
// naming the problem, the path and the offending value, and no target has been touched.
template <CheckpointScalar T>
void load_checkpoint(const std::string& path, const tensor_list<T>& targets,
                     checkpoint_load_options options = {}) {
  namespace ck = detail::checkpoint;
  ck::require_valid_list(targets, path);
  const std::vector<unsigned char> bytes = ck::read_whole_file(path);
  const std::vector<ck::entry> entries = ck::parse(bytes, path, ck::dtype_code<T>);

  std::unordered_map<std::string_view, const ck::entry*> by_name;
  for (const auto& e : entries)
    if (!by_name.emplace(e.name, &e).second)
      throw io_error(ck::prefix(path) + "the file holds two tensors named '" + std::string(e.name) + "'");

  std::vector<const ck::entry*> sources;
  sources.reserve(targets.size());
  std::size_t missing = 0;
  const named_tensor<T>* first_missing = nullptr;
  for (const auto& t : targets) {
    const auto found = by_name.find(t.name);
    if (found == by_name.end()) {
      if (missing++ == 0) first_missing = &t;
      continue;
    }
    const ck::entry& e = *found->second;
    if (e.rows != static_cast<std::uint64_t>(t.tensor->rows()) || e.cols != static_cast<std::uint64_t>(t.tensor->cols()))
      throw io_error(ck::prefix(path) + "tensor '" + t.name + "' has shape " + std::to_string(e.rows) + "x" +
                     std::to_string(e.cols) + " in the file, " + std::to_string(t.tensor->rows()) + "x" +
                     std::to_string(t.tensor->cols()) + " in the model");
    sources.push_back(&e);
  }
  if (missing != 0)
    throw io_error(ck::prefix(path) + "missing tensor '" + first_missing->name + "'" +
                   (missing > 1 ? " (and " + std::to_string(missing - 1) + " more missing)" : std::string()));
  if (!options.allow_extra_tensors && entries.size() > targets.size()) {
    std::unordered_map<std::string_view, std::size_t> wanted;
    for (const auto& t : targets) wanted.emplace(t.name, 0);
    for (const auto& e : entries)
      if (!wanted.contains(e.name))
        throw io_error(ck::prefix(path) + "the file holds tensor '" + std::string(e.name) + "', which no target asks for (" +
                       std::to_string(entries.size() - targets.size()) +
                       " extra in all; set checkpoint_load_options::allow_extra_tensors to ignore them)");
  }

  // Everything checked: only now write the targets.
  for (std::size_t i = 0; i < targets.size(); ++i)
    ck::read_elements(bytes.data() + sources[i]->data_offset, *targets[i].tensor);
}

// Several lists from one file: load_checkpoint(path, {values_of(params), optimizer.state()}).
template <CheckpointScalar T>
void load_checkpoint(const std::string& path, std::initializer_list<tensor_list<T>> lists,
                     checkpoint_load_options options = {}) {
  load_checkpoint(path, detail::checkpoint::concatenate(lists), options);
}

}  // namespace netmarl
