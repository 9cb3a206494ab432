// The public API in one include: <tessera/tessera.hpp>. Link tessera::tessera (pkg-config
// tessera); open_transport, declared in open.hpp, and the in-process engine come with
// tessera::sim (pkg-config tessera-sim). docs/cpp.md has a walk-through.
#pragma once

#include "tessera/conv.hpp"
#include "tessera/device.hpp"
#include "tessera/errors.hpp"
#include "tessera/golden.hpp"
#include "tessera/golden_sparse.hpp"
#include "tessera/isa.hpp"
#include "tessera/kernel.hpp"
#include "tessera/open.hpp"
#include "tessera/protocol.hpp"
#include "tessera/quantized.hpp"
#include "tessera/random_problem.hpp"
#include "tessera/resident.hpp"
#include "tessera/runtime.hpp"
#include "tessera/serial_transport.hpp"
#include "tessera/sparse.hpp"
#include "tessera/sparse_runtime.hpp"
#include "tessera/tcp_transport.hpp"
#include "tessera/tensor.hpp"
#include "tessera/transport.hpp"
