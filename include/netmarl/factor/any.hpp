#pragma once
// factor::any<Backend>: a factorization chosen at run time. Every other factorization is a
// compile-time slot, which is what a paper's main wants until it compares twenty of them: then
// each choice is a whole system instantiation (learner, environment loop, networks), about ten
// seconds of compile time apiece. any<Backend> puts the choice behind one virtual interface, so a
// program instantiates the system once and each factorization model once:
//
//   using config = ...; using factor = netmarl::factor::any<netmarl::backend::simd<>>;
//   settings.factor = factor::any<B>::of<factor::vast<factor::qtran, assign::meta_grad>>(
//       {.eta = 0.5}, "VAST(QTRAN, meta_grad)");
//
// The wrapped model runs on Backend whatever backend tag the learner passes (the learner's own
// networks use the learner's). Every optional hook of factor/concept.hpp is forwarded, so
// owns_critic_loss and is_per_agent become run-time answers. Copying (learn::dqn's target copy)
// copies the wrapped model; a model that cannot be copied (vast with assign::meta_grad) throws
// invalid_argument naming it when copied.
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <utility>

#include "netmarl/core/error.hpp"
#include "netmarl/core/rng.hpp"
#include "netmarl/core/tensor.hpp"
#include "netmarl/factor/concept.hpp"
#include "netmarl/nn/parameter.hpp"

namespace netmarl::factor {

template <class Backend>
struct any {
  // What the system calls on a model, scalar type T.
  template <class T>
  class interface {
   public:
    virtual ~interface() = default;
    virtual std::unique_ptr<interface> clone() const = 0;
    virtual index outputs() const = 0;
    virtual bool is_per_agent() const = 0;
    virtual bool owns_critic_loss() const = 0;
    virtual void prepare(const mixing_context<T>& c) = 0;
    virtual void forward(const_matrix_ref<T> q, const_matrix_ref<T> state, matrix<T>& out) = 0;
    virtual void backward(const_matrix_ref<T> d_out, matrix<T>& d_q) = 0;
    virtual void learn_from_advantages(std::span<const T> advantages) = 0;
    virtual void bind_utilities(const utility_shape& u, rng& g) = 0;
    virtual joint_loss critic_loss(const joint_batch<T>& b, joint_gradients<T>& g) = 0;
    virtual void joint_value(const joint_batch<T>& b, matrix<T>& out) = 0;
    virtual void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) = 0;
  };

  // F's model behind the interface.
  template <class F, class T>
  class adapter final : public interface<T> {
   public:
    using wrapped = typename F::template model<T>;
    adapter(index agents, index state_size, const typename F::settings& s, rng& g,
            std::string name)
        : model_(agents, state_size, s, g), name_(std::move(name)) {}

    std::unique_ptr<interface<T>> clone() const override {
      if constexpr (std::is_copy_constructible_v<wrapped>)
        return std::make_unique<adapter>(*this);
      else
        throw invalid_argument("factor::any: " + name_ +
                               " cannot be copied (learn::dqn keeps a target copy of its "
                               "factorization; train this one with learn::actor_critic)");
    }
    index outputs() const override { return model_.outputs(); }
    bool is_per_agent() const override { return factor::is_per_agent(model_); }
    bool owns_critic_loss() const override { return factor::owns_critic_loss(model_); }
    void prepare(const mixing_context<T>& c) override { factor::prepare(model_, Backend{}, c); }
    void forward(const_matrix_ref<T> q, const_matrix_ref<T> state, matrix<T>& out) override {
      model_.forward(Backend{}, q, state, out);
    }
    void backward(const_matrix_ref<T> d_out, matrix<T>& d_q) override {
      model_.backward(Backend{}, d_out, d_q);
    }
    void learn_from_advantages(std::span<const T> advantages) override {
      factor::learn_from_advantages(model_, Backend{}, advantages);
    }
    void bind_utilities(const utility_shape& u, rng& g) override {
      factor::bind_utilities(model_, u, g);
    }
    joint_loss critic_loss(const joint_batch<T>& b, joint_gradients<T>& g) override {
      return factor::critic_loss(model_, Backend{}, b, g);
    }
    void joint_value(const joint_batch<T>& b, matrix<T>& out) override {
      factor::joint_value(model_, Backend{}, b, out);
    }
    void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) override {
      model_.append_parameters(out, prefix);
    }
    wrapped& model() { return model_; }

   private:
    wrapped model_;
    std::string name_;
  };

  // Which factorization, with its settings: made by of<F>(...). Default: none chosen (building a
  // model from it is an error that says so).
  struct settings {
    std::string name;
    std::function<std::unique_ptr<interface<float>>(index, index, rng&)> make_float;
    std::function<std::unique_ptr<interface<double>>(index, index, rng&)> make_double;
  };

  // Settings that build F's model for a system whose scalar is Scalar (only that one is
  // compiled: each wrapped model is a compile-time cost, which is what any<> saves).
  template <Factorization F, class Scalar = float>
  static settings of(typename F::settings s, std::string name) {
    static_assert(std::is_same_v<Scalar, float> || std::is_same_v<Scalar, double>,
                  "factor::any::of: Scalar must be float or double");
    settings out;
    out.name = name;
    auto make = [s, name](index agents, index state_size, rng& g) {
      return std::unique_ptr<interface<Scalar>>(
          std::make_unique<adapter<F, Scalar>>(agents, state_size, s, g, name));
    };
    if constexpr (std::is_same_v<Scalar, float>)
      out.make_float = make;
    else
      out.make_double = make;
    return out;
  }

  template <class T>
  class model {
   public:
    using scalar = T;
    static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                  "factor::any: the scalar must be float or double");

    model(index agents, index state_size, const settings& s, rng& g) : name_(s.name) {
      if constexpr (std::is_same_v<T, float>) {
        if (s.make_float) impl_ = s.make_float(agents, state_size, g);
      } else {
        if (s.make_double) impl_ = s.make_double(agents, state_size, g);
      }
      if (!impl_)
        throw invalid_argument(
            s.make_float || s.make_double
                ? "factor::any: " + s.name + " was made for the other scalar type (pass it to "
                                             "of<F, Scalar>)"
                : std::string("factor::any: no factorization chosen (set the settings with "
                              "factor::any<Backend>::of<F>(settings, name))"));
    }
    model(const model& other) : impl_(other.impl_->clone()), name_(other.name_) {}
    model& operator=(const model& other) {
      if (this != &other) {
        impl_ = other.impl_->clone();
        name_ = other.name_;
      }
      return *this;
    }
    model(model&&) noexcept = default;
    model& operator=(model&&) noexcept = default;

    const std::string& name() const { return name_; }
    index outputs() const { return impl_->outputs(); }
    bool is_per_agent() const { return impl_->is_per_agent(); }
    bool owns_critic_loss() const { return impl_->owns_critic_loss(); }

    template <class B>
    void prepare(B, const mixing_context<T>& c) {
      impl_->prepare(c);
    }
    template <class B>
    void forward(B, const_matrix_ref<T> q, const_matrix_ref<T> state, matrix<T>& out) {
      impl_->forward(q, state, out);
    }
    template <class B>
    void backward(B, const_matrix_ref<T> d_out, matrix<T>& d_q) {
      impl_->backward(d_out, d_q);
    }
    template <class B>
    void learn_from_advantages(B, std::span<const T> advantages) {
      impl_->learn_from_advantages(advantages);
    }
    void bind_utilities(const utility_shape& u, rng& g) { impl_->bind_utilities(u, g); }
    template <class B>
    joint_loss critic_loss(B, const joint_batch<T>& b, joint_gradients<T>& g) {
      return impl_->critic_loss(b, g);
    }
    template <class B>
    void joint_value(B, const joint_batch<T>& b, matrix<T>& out) {
      impl_->joint_value(b, out);
    }
    void append_parameters(nn::parameter_list<T>& out, const std::string& prefix) {
      impl_->append_parameters(out, prefix);
    }

    // The wrapped model as F's model (nullptr when it is another factorization).
    template <class F>
    typename F::template model<T>* as() {
      auto* a = dynamic_cast<adapter<F, T>*>(impl_.get());
      return a ? &a->model() : nullptr;
    }

   private:
    std::unique_ptr<interface<T>> impl_;
    std::string name_;
  };
};

}  // namespace netmarl::factor
