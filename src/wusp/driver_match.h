/*
 * Driver matching for the SyncUpdates driver pass (MS-WUSP 3.1.5.7;
 * WUSP.md 4.2): for each device of the client's SystemSpec, the best
 * eligible driver-table entry, if it is better than the driver the
 * device has.
 *
 * "Better", in order: a match through a more specific computer hardware
 * id (CHID; earlier in ComputerSpec/HardwareIDs; an entry with no CHIDs
 * ranks below any CHID match), a lower feature score (the entry's
 * FeatureScore for the client's FeatureScoreMatchingKey, 0xFF when it
 * has none), a device id earlier in the device's HardwareIDs +
 * CompatibleIDs list, a newer DriverVerDate, a higher DriverVerVersion.
 * Ids compare ASCII case-insensitively. An entry with CHIDs is eligible
 * only on a computer that has one of them. A device whose installed
 * driver is a printer's (Class "Printer") only gets drivers of the same
 * Provider and Manufacturer. A tie with the installed driver is not
 * better.
 */
#ifndef WSUSD_WUSP_DRIVER_MATCH_H
#define WSUSD_WUSP_DRIVER_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "wusp/systemspec.h"

/* The driver entries of CAT ordered by hwid_key: *OUT (free() it). */
int driver_index_build(const struct store_sync_catalog *cat, uint32_t **out)
    WSD_MUST_CHECK;

/*
 * For each device of SPEC, the index into CAT->drv of its best entry
 * among those whose revision ELIGIBLE accepts, or UINT32_MAX when none
 * is better than what the device has: BEST[0 .. SPEC->n_dev).
 */
void driver_match(const struct store_sync_catalog *cat, const uint32_t *index,
    const struct system_spec *spec, bool (*eligible)(void *, size_t rev),
    void *arg, uint32_t *best);

#endif
