#pragma once
// The Backend slot: an empty tag type naming itself and its buffer alignment.
#include <concepts>
#include <string>
#include <type_traits>

namespace netmarl {

template <class B>
concept Backend = std::is_empty_v<B> && std::is_default_constructible_v<B> && requires {
  { B::name() } -> std::convertible_to<std::string>;
  { B::alignment() } -> std::convertible_to<std::size_t>;
  { B::on_host } -> std::convertible_to<bool>;
};

}  // namespace netmarl
