#pragma once
// The three Warehouse[N] maps of VAST (specs/environments.md 1.2; the facts come from the authors'
// code, thomyphan/scalable-marl, vast/environments/warehouse.py). See warehouse.hpp for the rules.
//
// Cell codes: -1 obstacle, 0 work station (where orders are taken and completed), 1 floor,
// 2..5 drop-off for item type 1..4. Rows are written from y = 0 upward, x from left to right, and
// "north" is y + 1.
//
// Moves: a robot may step to a 4-neighbour that is inside the grid and not an obstacle. For N = 4
// and N = 16 this is exactly the authors' per-cell move lists. Their N = 8 list has one odd cell,
// (3, 1): it allows north, into the obstacle at (3, 2) (where the code then charges -0.5), and not
// south, to the work station (3, 0) (its mirror (1, 1) allows south). We follow the simple rule, as
// the spec says, so (3, 1) moves south and a move north from it is a move without an edge.
//
// In all three maps the start cells are exactly the work stations, and there are fewer of them
// than robots (2 for 4, 4 for 8, 12 for 16).
#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "netmarl/core/error.hpp"
#include "netmarl/core/tensor.hpp"

namespace netmarl::env {

struct warehouse_layout {
  index agents = 0;                                    // the N this map is built for
  index width = 0;                                     // x in [0, width)
  index height = 0;                                    // y in [0, height)
  std::span<const std::int8_t> codes;                  // codes[y * width + x]
  std::span<const std::array<std::int8_t, 2>> starts;  // start cells (x, y)

  bool inside(index x, index y) const { return x >= 0 && x < width && y >= 0 && y < height; }
  // The cell code at (x, y); -1 (as an obstacle) outside the grid.
  int code(index x, index y) const {
    return inside(x, y) ? codes[static_cast<std::size_t>(y * width + x)] : -1;
  }
};

namespace warehouse_detail {
// The maps are laid out as grids, one row per line: keep clang-format away.
// clang-format off

// Warehouse[4]: 3 x 5.
inline constexpr std::array<std::int8_t, 3 * 5> codes_4 = {
    -1, 0,  -1,  // y = 0
    1,  2,  1,   // y = 1
    4,  -1, 5,   // y = 2
    1,  3,  1,   // y = 3
    -1, 0,  -1,  // y = 4
};
inline constexpr std::array<std::array<std::int8_t, 2>, 2> starts_4 = {{{1, 0}, {1, 4}}};

// Warehouse[8]: 5 x 5.
inline constexpr std::array<std::int8_t, 5 * 5> codes_8 = {
    1, 0,  1, 0,  1,  // y = 0
    1, 2,  1, 3,  1,  // y = 1
    4, -1, 5, -1, 4,  // y = 2
    1, 3,  1, 2,  1,  // y = 3
    1, 0,  1, 0,  1,  // y = 4
};
inline constexpr std::array<std::array<std::int8_t, 2>, 4> starts_8 = {
    {{1, 0}, {1, 4}, {3, 0}, {3, 4}}};

// Warehouse[16]: 13 x 9.
inline constexpr std::array<std::int8_t, 13 * 9> codes_16 = {
    -1, -1, -1, 0,  -1, 0,  -1, 0,  -1, 0,  -1, -1, -1,  // y = 0
    -1, 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  -1,  // y = 1
    -1, 1,  1,  2,  1,  3,  1,  2,  1,  3,  1,  1,  -1,  // y = 2
    0,  1,  4,  -1, 5,  -1, 4,  -1, 5,  -1, 4,  1,  0,   // y = 3
    -1, 1,  1,  3,  1,  2,  1,  3,  1,  2,  1,  1,  -1,  // y = 4
    0,  1,  4,  -1, 5,  -1, 4,  -1, 5,  -1, 4,  1,  0,   // y = 5
    -1, 1,  1,  3,  1,  2,  1,  3,  1,  2,  1,  1,  -1,  // y = 6
    -1, 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  -1,  // y = 7
    -1, -1, -1, 0,  -1, 0,  -1, 0,  -1, 0,  -1, -1, -1,  // y = 8
};
inline constexpr std::array<std::array<std::int8_t, 2>, 12> starts_16 = {
    {{0, 3}, {0, 5}, {12, 3}, {12, 5}, {3, 0}, {5, 0}, {7, 0}, {9, 0}, {3, 8}, {5, 8}, {7, 8},
     {9, 8}}};

inline constexpr std::array<warehouse_layout, 3> layouts = {{
    {4, 3, 5, codes_4, starts_4},
    {8, 5, 5, codes_8, starts_8},
    {16, 13, 9, codes_16, starts_16},
}};
// clang-format on

}  // namespace warehouse_detail

// The map for N robots. The authors' code ties N to the map (Warehouse-4/8/16 fix nr_agents), so
// any other N is an error rather than a map with spare or missing robots.
inline const warehouse_layout& warehouse_layout_for(index agents) {
  for (const auto& layout : warehouse_detail::layouts)
    if (layout.agents == agents) return layout;
  throw invalid_argument("warehouse: no layout hosts " + std::to_string(agents) +
                         " robots; layouts exist for 4, 8, 16");
}

}  // namespace netmarl::env
