#pragma once

/// Umbrella header for programs that embed Aqueducts. Never included from src/.
#include "aqueducts/cancel_token.h"
#include "aqueducts/check.h"
#include "aqueducts/data_type.h"
#include "aqueducts/loader.h"
#include "aqueducts/locations.h"
#include "aqueducts/model.h"
#include "aqueducts/progress.h"
#include "aqueducts/run.h"
#include "aqueducts/status.h"
