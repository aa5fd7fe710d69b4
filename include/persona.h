/**
 * @file persona.h
 * @brief Umbrella header of libpersona: includes every public header.
 */
#ifndef PERSONA_H
#define PERSONA_H

#include "persona/common.h"
#include "persona/event.h"
#include "persona/store.h"
#include "persona/source.h"
#include "persona/identity.h"
#include "persona/cohort.h"
#include "persona/funnel.h"
#include "persona/segment.h"
#include "persona/rfm.h"
#include "persona/stability.h"
#include "persona/kmeans.h"
#include "persona/hclust.h"
#include "persona/features.h"
#include "persona/affinity.h"
#include "persona/itemsets.h"
#include "persona/path.h"
#include "persona/attribution.h"
#include "persona/metrics.h"

#endif /* PERSONA_H */
