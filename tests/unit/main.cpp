// The one Catch2 main for the unit tests; the test files only include catch.hpp.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
