#pragma once
// A token for an asynchronous operation's handler, which sets it to true when it runs. A handler
// destroyed without running (its io_context went first) runs on_abandon instead, unless the
// owner is gone (alive expired). Streams use it to let go of the operations they keep waiting:
// those hold the peer connection that holds the stream, and would keep each other alive.
#include <memory>
#include <utility>

namespace p2p {

template <class OnAbandon>
std::shared_ptr<bool> make_abandon_guard(std::weak_ptr<int> alive, OnAbandon on_abandon) {
  return std::shared_ptr<bool>(
      new bool(false), [alive = std::move(alive), f = std::move(on_abandon)](bool* ran) mutable {
        const bool abandoned = !*ran;
        delete ran;
        if (abandoned && !alive.expired()) f();
      });
}

}  // namespace p2p
