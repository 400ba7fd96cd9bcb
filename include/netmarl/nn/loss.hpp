#pragma once
// Every loss: regression (mse, huber, smooth_l1, with per-row weights) and categorical
// (cross_entropy, log-probabilities, policy-gradient loss, entropy).
#include "netmarl/nn/categorical_loss.hpp"
#include "netmarl/nn/regression_loss.hpp"
