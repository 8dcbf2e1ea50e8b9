// RunServe: the `credgate serve` process. Opens the store and the master keyring, loads the
// configuration into memory, applies the resources declared in the config file, starts the
// management and gateway listeners, and on SIGTERM or SIGINT stops accepting, drains in-flight
// requests for up to drain_timeout_seconds and exits. On SIGHUP it reads the TLS certificate and
// key files of each HTTPS listener again. A file that fails to load leaves that listener's
// certificate as it was.
#pragma once

#include "app/config.h"

namespace credgate::app {

// Returns the process exit code: 0 after a clean stop, 1 when start-up failed (the reason is
// logged).
int RunServe(const ServeConfig& config);

}  // namespace credgate::app
