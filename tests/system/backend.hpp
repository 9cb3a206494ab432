// The engine every system test talks to. TESSERA_TEST_BACKEND picks the backend, so ctest
// runs each system test binary twice with the same cases:
//   sim (default)  the in-process Verilated engine
//   tcp            the same engine hosted by a tessera-sim server (SimServer on a free
//                  loopback port, in a thread of the test), reached through TcpTransport
//   tcp-bounded    the same, the server keeping a board's buffer discipline
//                  (tessera-sim --bounded); ctest runs only the cases tagged [runtime]
//                  and [bounded] this way: the others queue data before its LOAD on
//                  purpose
//   serial         the same engine behind tessera-sim's request executor on a
//                  pseudo-terminal (tessera-sim --bounded --pty, in a thread of the
//                  test), reached through SerialTransport as a board is; bounded, so
//                  ctest runs the same cases as for tcp-bounded
#pragma once

#include <memory>
#include <string>

#include "sim_transport.hpp"
#include "tessera/transport.hpp"

namespace tessera::test {

// `options` configure the in-process engine (behind the server, for tcp).
std::unique_ptr<Transport> make_test_transport(const sim::SimOptions& options = {});

// A tcp-bounded transport whatever TESSERA_TEST_BACKEND says.
std::unique_ptr<Transport> make_bounded_tcp_transport(const sim::SimOptions& options = {});

// "sim", "tcp", "tcp-bounded" or "serial", for test names and messages.
std::string test_backend();

}  // namespace tessera::test
