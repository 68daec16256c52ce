#pragma once
// The web dashboard: "/" is its page, "/web/<file>" its scripts and style, all compiled into
// the binary. Each file has an ETag (a hash of its bytes) and is revalidated on every use, so
// a new binary's files are seen at once and an unchanged one costs a 304.
#include <string_view>

#include "node/daemon/http_frontend.hpp"

namespace bttnode::daemon {

// The content type of a file by its extension (application/octet-stream when unknown).
std::string_view content_type_of(std::string_view path);

// GET "/", "/index.html" and "/web/<file>"; nullopt for any other path.
Route dashboard_route();

}  // namespace bttnode::daemon
