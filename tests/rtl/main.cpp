// The one Catch2 main shared by every RTL block test executable (compiled once, as an
// object library, and linked into each).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
