#pragma once
// A page of the daemon's HTTP frontend: given a request that passed auth and the host/IP
// whitelist, the response, or nullopt when the path is not this route's.
#include <functional>
#include <optional>

#include "base/http_server.hpp"

namespace bttnode::daemon {

using Route = std::function<std::optional<base::http::Response>(const base::http::Request&)>;

}  // namespace bttnode::daemon
