/* libdgn: screen glass compositions for a target property range with
 * DeepGlassNet. This umbrella header only includes the per-topic headers;
 * each of them states its ownership and threading rules. */
#ifndef DGN_H
#define DGN_H

#include "dgn/common.h"
#include "dgn/version.h"
#include "dgn/dataset.h"
#include "dgn/ensemble.h"
#include "dgn/files.h"
#include "dgn/model.h"
#include "dgn/metrics.h"
#include "dgn/scoring.h"
#include "dgn/screener.h"
#include "dgn/trainer.h"

#endif
