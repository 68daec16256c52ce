#pragma once
// The named settings of a session (base/settings.hpp): each field of SessionSettings and its
// choker, tracker and storage parts, with its flag name, JSON key, bounds and help. The
// defaults are the member initialisers of those structs.
#include "base/settings.hpp"
#include "p2p/session/session.hpp"

namespace p2p {

const base::SettingsTable<SessionSettings>& session_settings_table();

}  // namespace p2p
