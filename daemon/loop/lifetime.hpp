// The life of an object that queues handlers on the io_context (the tailer,
// the control server): a handler still queued when the object is destroyed
// must find it gone instead of calling into freed memory. Hold a Lifetime as
// the object's last member, so that it ends first, and wrap each handler
// with guarded().
#pragma once

#include <memory>
#include <utility>

namespace exim_ban {

class Lifetime {
  public:
    // `handler`, called with the same arguments while this Lifetime lasts;
    // afterwards a call does nothing.
    template <class Handler>
    auto guarded(Handler handler) const {
        return [alive = std::weak_ptr<bool>(alive_),
                handler = std::move(handler)](auto&&... arguments) mutable {
            if (!alive.expired())
                handler(std::forward<decltype(arguments)>(arguments)...);
        };
    }

  private:
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace exim_ban
