#include "p2p/version.hpp"
