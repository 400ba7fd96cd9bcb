#include <catch2/catch.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>  // getpid, for a per-process temporary directory

#if defined(__linux__)
#include <csignal>
#include <sys/resource.h>
#endif

#include "netmarl/core/checkpoint.hpp"
#include "netmarl/core/crc32.hpp"
#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/nn/parameter.hpp"
#include "netmarl/optim/adam.hpp"
#include "netmarl/optim/sgd.hpp"

namespace fs = std::filesystem;
using netmarl::checkpoint_load_options;
using netmarl::load_checkpoint;
using netmarl::matrix;
using netmarl::save_checkpoint;
using netmarl::tensor_list;
using bytes = std::vector<unsigned char>;

namespace {

// A fresh directory per test case, removed afterwards.
struct temp_dir {
  fs::path path;
  temp_dir() {
    static int counter = 0;
    path = fs::temp_directory_path() /
           ("netmarl_test_checkpoint_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename().string());
    return names;
  }
};

bytes read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const bytes& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}

std::uint64_t get_u64(const bytes& b, std::size_t at) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t{b[at + i]} << (8 * i);
  return v;
}
std::uint32_t get_u32(const bytes& b, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{b[at + i]} << (8 * i);
  return v;
}
void put_u32(bytes& b, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<unsigned char>(v >> (8 * i));
}

// Rewrites the trailing CRC so that a deliberate edit is judged on its own merits, not as corruption.
void refresh_crc(bytes& b) { put_u32(b, b.size() - 4, netmarl::crc32(b.data(), b.size() - 4)); }

template <class T>
bool bit_identical(const matrix<T>& a, const matrix<T>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         (a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(T) * static_cast<std::size_t>(a.size())) == 0);
}

// Three tensors, as a small actor-critic would have them. Names are 15, 13 and 8 bytes long.
template <class T>
struct model {
  matrix<T> weight, bias, critic;
  explicit model(std::uint64_t seed) {
    netmarl::rng g(seed);
    weight.resize(3, 4);
    bias.resize(1, 4);
    critic.resize(2, 2);
    for (auto* m : {&weight, &bias, &critic})
      for (netmarl::index i = 0; i < m->size(); ++i) m->data()[i] = static_cast<T>(g.normal());
  }
  tensor_list<T> tensors() { return {{"actor.l0.weight", &weight}, {"actor.l0.bias", &bias}, {"critic.w", &critic}}; }
};

// Offsets in the file of model<float>, from the layout documented in checkpoint.hpp.
constexpr std::size_t header = 32;
constexpr std::size_t first_name = header + 4;            // "actor.l0.weight"
constexpr std::size_t first_shape = first_name + 15;      // rows, cols
constexpr std::size_t first_data = first_shape + 16;      // 12 floats
constexpr std::size_t second_tensor = first_data + 12 * 4;
constexpr std::size_t float_file_size = header + (4 + 15 + 16 + 48) + (4 + 13 + 16 + 16) + (4 + 8 + 16 + 16) + 4;

// Loading must throw io_error whose message names the path and contains `text`, and must leave
// every target exactly as it was.
template <class T>
void require_load_fails(const std::string& path, const tensor_list<T>& targets, const std::string& text,
                        checkpoint_load_options options = {}) {
  std::vector<matrix<T>> before;
  for (const auto& t : targets) before.push_back(*t.tensor);
  REQUIRE_THROWS_AS(load_checkpoint(path, targets, options), netmarl::io_error);
  REQUIRE_THROWS_WITH(load_checkpoint(path, targets, options),
                      Catch::Contains(text) && Catch::Contains("checkpoint '" + path + "'"));
  for (std::size_t i = 0; i < targets.size(); ++i) REQUIRE(bit_identical(*targets[i].tensor, before[i]));
}

}  // namespace

TEMPLATE_TEST_CASE("checkpoint: round trip is bit-identical", "[core][checkpoint]", float, double) {
  using T = TestType;
  temp_dir dir;
  const auto path = dir.file("model.ckpt");
  model<T> saved(1);
  // Values that a lossy or text format would mangle.
  saved.critic << -T(0), std::numeric_limits<T>::denorm_min(), std::numeric_limits<T>::infinity(),
      std::numeric_limits<T>::quiet_NaN();
  matrix<T> empty(0, 3);
  auto list = saved.tensors();
  list.push_back({"empty", &empty});
  save_checkpoint(path, list);

  model<T> loaded(2);
  matrix<T> empty_loaded(0, 3);
  REQUIRE_FALSE(bit_identical(loaded.weight, saved.weight));
  // Order independent: targets listed the other way round.
  tensor_list<T> targets{{"empty", &empty_loaded}, {"critic.w", &loaded.critic}, {"actor.l0.bias", &loaded.bias},
                         {"actor.l0.weight", &loaded.weight}};
  load_checkpoint(path, targets);
  CHECK(bit_identical(loaded.weight, saved.weight));
  CHECK(bit_identical(loaded.bias, saved.bias));
  CHECK(bit_identical(loaded.critic, saved.critic));
  CHECK(std::signbit(loaded.critic(0, 0)));
}

TEST_CASE("checkpoint: the file follows the documented layout", "[core][checkpoint]") {
  temp_dir dir;
  const auto path = dir.file("model.ckpt");
  model<float> m(1);
  save_checkpoint(path, m.tensors());
  const bytes b = read_bytes(path);
  REQUIRE(b.size() == float_file_size);
  CHECK(std::memcmp(b.data(), "NETMARL\0", 8) == 0);
  CHECK(get_u32(b, 8) == 1);                 // format version
  CHECK(get_u32(b, 12) == 1);                // float32
  CHECK(get_u64(b, 16) == float_file_size);  // recorded size
  CHECK(get_u64(b, 24) == 3);                // tensor count
  CHECK(get_u32(b, header) == 15);
  CHECK(std::string(b.begin() + first_name, b.begin() + first_name + 15) == "actor.l0.weight");
  CHECK(get_u64(b, first_shape) == 3);
  CHECK(get_u64(b, first_shape + 8) == 4);
  CHECK(get_u32(b, first_data) == std::bit_cast<std::uint32_t>(m.weight(0, 0)));
  CHECK(get_u32(b, first_data + 4) == std::bit_cast<std::uint32_t>(m.weight(0, 1)));  // row-major
  CHECK(get_u32(b, second_tensor) == 13);
  CHECK(get_u32(b, b.size() - 4) == netmarl::crc32(b.data(), b.size() - 4));

  model<double> d(1);
  save_checkpoint(path, d.tensors());
  CHECK(get_u32(read_bytes(path), 12) == 2);  // float64
}

TEST_CASE("checkpoint: optimizer state round trip continues training exactly", "[core][checkpoint]") {
  temp_dir dir;
  const auto path = dir.file("training.ckpt");
  using netmarl::nn::parameter;
  // Gradient of 1/2 |x - target|^2 plus a step-dependent wiggle, so the moments matter.
  const auto set_grads = [](parameter<float>& w, parameter<float>& b, int step) {
    for (netmarl::index i = 0; i < w.size(); ++i)
      w.grad.data()[i] = w.value.data()[i] - 0.1f * float(i) + 0.01f * std::sin(float(step + i));
    for (netmarl::index i = 0; i < b.size(); ++i) b.grad.data()[i] = b.value.data()[i] + 1.0f;
  };
  const auto init = [](parameter<float>& w, parameter<float>& b) {
    w.value.setConstant(0.5f);
    b.value.setConstant(-0.25f);
  };

  // Uninterrupted: 20 steps of Adam and SGD with momentum on separate parameters.
  parameter<float> w(3, 5), b(1, 5);
  init(w, b);
  netmarl::optim::adam<float> adam({{"w", &w}}, {.learning_rate = 0.01f});
  netmarl::optim::sgd<float> sgd({{"b", &b}}, {.learning_rate = 0.05f, .momentum = 0.9f, .dampening = 0.1f});
  const netmarl::nn::parameter_list<float> params{{"w", &w}, {"b", &b}};
  for (int step = 0; step < 10; ++step) {
    set_grads(w, b, step);
    adam.step();
    sgd.step();
  }
  save_checkpoint(path, {netmarl::nn::values_of(params), adam.state(), sgd.state()});
  for (int step = 10; step < 20; ++step) {
    set_grads(w, b, step);
    adam.step();
    sgd.step();
  }

  // Resumed: fresh objects with other values, restored from the file, then the same 10 steps.
  parameter<float> w2(3, 5), b2(1, 5);
  w2.value.setConstant(9.0f);
  netmarl::optim::adam<float> adam2({{"w", &w2}}, {.learning_rate = 0.01f});
  netmarl::optim::sgd<float> sgd2({{"b", &b2}}, {.learning_rate = 0.05f, .momentum = 0.9f, .dampening = 0.1f});
  const netmarl::nn::parameter_list<float> params2{{"w", &w2}, {"b", &b2}};
  load_checkpoint(path, {netmarl::nn::values_of(params2), adam2.state(), sgd2.state()});
  CHECK(adam2.step_count() == 10);
  CHECK(sgd2.step_count() == 10);
  for (int step = 10; step < 20; ++step) {
    set_grads(w2, b2, step);
    adam2.step();
    sgd2.step();
  }
  CHECK(bit_identical(w2.value, w.value));
  CHECK(bit_identical(b2.value, b.value));

  // The check can fail: resuming without the optimizer state does not reproduce the run.
  parameter<float> w3(3, 5), b3(1, 5);
  netmarl::optim::adam<float> adam3({{"w", &w3}}, {.learning_rate = 0.01f});
  load_checkpoint(path, netmarl::nn::values_of(netmarl::nn::parameter_list<float>{{"w", &w3}, {"b", &b3}}),
                  {.allow_extra_tensors = true});
  for (int step = 10; step < 20; ++step) {
    set_grads(w3, b3, step);
    adam3.step();
  }
  CHECK_FALSE(bit_identical(w3.value, w.value));
}

TEST_CASE("checkpoint: a truncated file is reported with the byte it ends at", "[core][checkpoint]") {
  temp_dir dir;
  const auto good = dir.file("good.ckpt");
  const auto cut = dir.file("cut.ckpt");
  model<float> saved(1);
  save_checkpoint(good, saved.tensors());
  const bytes full = read_bytes(good);
  model<float> target(2);
  const auto targets = target.tensors();

  // In the magic, the version, the rest of the header, a name, a shape, the data, the CRC.
  for (const std::size_t at : {std::size_t{0}, std::size_t{5}, std::size_t{8}, std::size_t{10}, std::size_t{14},
                               std::size_t{20}, std::size_t{31}}) {
    CAPTURE(at);
    write_bytes(cut, bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(at)));
    require_load_fails(cut, targets, "truncated at byte " + std::to_string(at) + ":");
  }
  for (const std::size_t at : {header, first_name + 3, first_shape + 9, first_data + 10, second_tensor + 2,
                               full.size() - 4, full.size() - 1}) {
    CAPTURE(at);
    write_bytes(cut, bytes(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(at)));
    require_load_fails(cut, targets,
                       "truncated at byte " + std::to_string(at) + " of " + std::to_string(full.size()));
  }
  // The good file still loads into the same targets.
  load_checkpoint(good, targets);
  CHECK(bit_identical(target.weight, saved.weight));
}

TEST_CASE("checkpoint: corruption anywhere is a CRC mismatch", "[core][checkpoint]") {
  temp_dir dir;
  const auto path = dir.file("model.ckpt");
  model<float> saved(1);
  save_checkpoint(path, saved.tensors());
  const bytes good = read_bytes(path);
  model<float> target(2);
  const auto stored = get_u32(good, good.size() - 4);
  // In the data, in a name, in a shape, in the tensor count.
  for (const std::size_t at : {first_data + 5, first_name + 2, first_shape + 1, std::size_t{24}}) {
    CAPTURE(at);
    bytes bad = good;
    bad[at] ^= 0x04;
    write_bytes(path, bad);
    char expected[64];
    std::snprintf(expected, sizeof expected, "CRC mismatch (file 0x%08x, computed 0x%08x)", stored,
                  netmarl::crc32(bad.data(), bad.size() - 4));
    require_load_fails(path, target.tensors(), expected);
  }
  // A damaged CRC itself.
  bytes bad = good;
  bad[bad.size() - 2] ^= 0xFF;
  write_bytes(path, bad);
  require_load_fails(path, target.tensors(), "CRC mismatch");
}

TEST_CASE("checkpoint: wrong magic, version, dtype and trailing bytes", "[core][checkpoint]") {
  temp_dir dir;
  const auto path = dir.file("model.ckpt");
  model<float> saved(1);
  save_checkpoint(path, saved.tensors());
  const bytes good = read_bytes(path);
  model<float> target(2);

  SECTION("magic") {
    bytes bad = good;
    bad[0] = 0x89;  // a PNG, say
    write_bytes(path, bad);
    require_load_fails(path, target.tensors(), "not a netmarl checkpoint (bad magic");
    write_bytes(path, {'h', 'e', 'l', 'l', 'o'});
    require_load_fails(path, target.tensors(), "bad magic: the file starts with 68 65 6c 6c 6f");
  }
  SECTION("version") {
    bytes bad = good;
    put_u32(bad, 8, 7);
    refresh_crc(bad);
    write_bytes(path, bad);
    require_load_fails(path, target.tensors(), "format version 7, this netmarl reads version 1");
  }
  SECTION("dtype of the targets differs from the file's") {
    model<double> doubles(3);
    require_load_fails(path, doubles.tensors(), "the file holds float32 tensors, the targets are float64");
    save_checkpoint(path, doubles.tensors());
    require_load_fails(path, target.tensors(), "the file holds float64 tensors, the targets are float32");
  }
  SECTION("unknown dtype code") {
    bytes bad = good;
    put_u32(bad, 12, 7);
    refresh_crc(bad);
    write_bytes(path, bad);
    require_load_fails(path, target.tensors(), "unknown dtype code 7");
  }
  SECTION("bytes after the recorded end") {
    bytes bad = good;
    bad.push_back(0);
    bad.push_back(0);
    write_bytes(path, bad);
    require_load_fails(path, target.tensors(), "2 unexpected bytes after byte " + std::to_string(good.size()));
  }
}

TEST_CASE("checkpoint: names and shapes must match the targets", "[core][checkpoint]") {
  temp_dir dir;
  const auto path = dir.file("x.bin");

  SECTION("shape mismatch names the tensor and both shapes") {
    matrix<float> big = matrix<float>::Ones(64, 200), bias = matrix<float>::Ones(1, 64);
    save_checkpoint(path, tensor_list<float>{{"actor.l0.weight", &big}, {"actor.l0.bias", &bias}});
    matrix<float> small = matrix<float>::Zero(64, 10), bias2 = matrix<float>::Zero(1, 64);
    require_load_fails(path, tensor_list<float>{{"actor.l0.bias", &bias2}, {"actor.l0.weight", &small}},
                       "tensor 'actor.l0.weight' has shape 64x200 in the file, 64x10 in the model");
  }
  SECTION("a missing tensor is named") {
    model<float> saved(1);
    save_checkpoint(path, saved.tensors());
    model<float> target(2);
    matrix<float> extra = matrix<float>::Zero(2, 2), extra2 = matrix<float>::Zero(1, 1);
    auto targets = target.tensors();
    targets.push_back({"x", &extra});
    require_load_fails(path, targets, "missing tensor 'x'");
    targets.push_back({"y", &extra2});
    require_load_fails(path, targets, "missing tensor 'x' (and 1 more missing)");
  }
  SECTION("extra tensors are an error unless allowed") {
    model<float> saved(1);
    save_checkpoint(path, saved.tensors());
    model<float> target(2);
    const tensor_list<float> actor_only{{"actor.l0.weight", &target.weight}, {"actor.l0.bias", &target.bias}};
    require_load_fails(path, actor_only, "the file holds tensor 'critic.w', which no target asks for");
    load_checkpoint(path, actor_only, {.allow_extra_tensors = true});
    CHECK(bit_identical(target.weight, saved.weight));
    CHECK(bit_identical(target.bias, saved.bias));
    CHECK_FALSE(bit_identical(target.critic, saved.critic));
  }
}

TEST_CASE("checkpoint: a missing file is an io_error naming the path", "[core][checkpoint]") {
  temp_dir dir;
  const auto path = dir.file("does_not_exist.ckpt");
  model<double> target(1);
  require_load_fails(path, target.tensors(), "cannot open: No such file or directory");
}

TEST_CASE("checkpoint: saving leaves no temporary file and replaces the old checkpoint", "[core][checkpoint]") {
  temp_dir dir;
  const auto path = dir.file("model.ckpt");
  model<float> first(1), second(2);
  save_checkpoint(path, first.tensors());
  CHECK(dir.entries() == std::vector<std::string>{"model.ckpt"});
  save_checkpoint(path, second.tensors());
  CHECK(dir.entries() == std::vector<std::string>{"model.ckpt"});
  model<float> loaded(3);
  load_checkpoint(path, loaded.tensors());
  CHECK(bit_identical(loaded.weight, second.weight));
}

TEST_CASE("checkpoint: saving into a directory that does not exist is an io_error", "[core][checkpoint]") {
  temp_dir dir;
  const auto path = dir.file("no/such/dir/model.ckpt");
  model<float> m(1);
  REQUIRE_THROWS_AS(save_checkpoint(path, m.tensors()), netmarl::io_error);
  REQUIRE_THROWS_WITH(save_checkpoint(path, m.tensors()),
                      Catch::Contains("checkpoint '" + path + "'") && Catch::Contains("No such file or directory"));
  CHECK(dir.entries().empty());
}

#if defined(__linux__)
TEST_CASE("checkpoint: a write that fails midway throws, removes the temporary file, keeps the old one",
          "[core][checkpoint]") {
  temp_dir dir;
  const auto path = dir.file("model.ckpt");
  model<float> old(1);
  save_checkpoint(path, old.tensors());
  const bytes old_bytes = read_bytes(path);

  // A file-size limit makes the write fail with EFBIG, as a full disk would with ENOSPC.
  matrix<float> big = matrix<float>::Ones(256, 256);  // 256 KiB
  rlimit saved_limit{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &saved_limit) == 0);
  const auto saved_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit small = saved_limit;
  small.rlim_cur = 64 * 1024;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  bool threw_io_error = false;
  std::string message;
  try {
    save_checkpoint(path, tensor_list<float>{{"big", &big}});
  } catch (const netmarl::io_error& e) {
    threw_io_error = true;
    message = e.what();
  }
  setrlimit(RLIMIT_FSIZE, &saved_limit);
  std::signal(SIGXFSZ, saved_handler);

  CHECK(threw_io_error);
  CHECK_THAT(message, Catch::Contains("checkpoint '" + path + "'") && Catch::Contains("File too large"));
  CHECK(dir.entries() == std::vector<std::string>{"model.ckpt"});
  CHECK(read_bytes(path) == old_bytes);
}
#endif

TEST_CASE("checkpoint: a list with a repeated name or a null tensor is rejected before touching the file",
          "[core][checkpoint]") {
  temp_dir dir;
  const auto path = dir.file("model.ckpt");
  matrix<double> a = matrix<double>::Zero(1, 1);
  REQUIRE_THROWS_WITH(save_checkpoint(path, tensor_list<double>{{"a", &a}, {"a", &a}}),
                      Catch::Contains("two tensors are named 'a'"));
  REQUIRE_THROWS_AS(save_checkpoint(path, tensor_list<double>{{"n", nullptr}}), netmarl::invalid_argument);
  CHECK(dir.entries().empty());
  save_checkpoint(path, tensor_list<double>{{"a", &a}});
  REQUIRE_THROWS_AS(load_checkpoint(path, tensor_list<double>{{"a", &a}, {"a", &a}}), netmarl::invalid_argument);
}
