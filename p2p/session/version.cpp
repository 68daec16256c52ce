#include "p2p/session/version.hpp"
