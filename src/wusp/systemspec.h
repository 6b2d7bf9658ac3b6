/*
 * The devices a client sends in a SyncUpdates driver pass (SystemSpec,
 * ComputerSpec, FeatureScoreMatchingKey; WUSP.md 3.6), read once into
 * bounded, typed structs. Strings are slices into the request document:
 * valid while it is.
 *
 * Real clients differ from the WSDL (WUSP.md 3.6): installedDriver may
 * end with SkipProviderFiltering and IsGeneric, MatchingComputerHWID
 * comes as xsi:nil, Manufacturer/Provider/Model are often absent, the
 * extension-driver array is spelled extensionDrivers/ExtensionDriver.
 * Unknown children are skipped; extension drivers and DriverRecoveryIDs
 * are not read (no server rule uses them).
 */
#ifndef WSUSD_WUSP_SYSTEMSPEC_H
#define WSUSD_WUSP_SYSTEMSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strparse.h"
#include "soap/soap_parse.h"

/* Real driver passes carry 70-75 devices with up to 11 ids each. */
#define SPEC_MAX_DEVICES 4096
#define SPEC_MAX_IDS     64   /* HardwareIDs + CompatibleIDs, one device */
#define SPEC_MAX_ID_LEN  1024 /* Windows' own limit is 200 */
#define SPEC_MAX_CHIDS   64   /* ComputerSpec/HardwareIDs (real: 6) */
#define SPEC_MAX_STR     1024 /* Class, Provider, Manufacturer, key */
#define SPEC_NO_RANK     INT32_MAX

/* What is installed on a device: the comparison keys of MS-WUSP
 * 3.1.5.7 ("better than the installed driver"). */
struct spec_installed {
	bool present;        /* a MatchingID was given */
	struct sv matching_id;
	int32_t chid_rank;   /* MatchingComputerHWID's index in the CHIDs */
	int32_t score;       /* feature score: (DriverRank >> 16) & 0xff */
	int32_t id_rank;     /* MatchingID's index in the device's ids */
	int32_t date;        /* DriverVerDate as yyyymmdd */
	uint64_t version;    /* DriverVerVersion */
	struct sv drv_class, provider, manufacturer;
};

struct spec_device {
	size_t first_id; /* HardwareIDs then CompatibleIDs in spec->ids */
	size_t n_ids;
	struct spec_installed inst;
};

struct system_spec {
	struct spec_device *dev;
	size_t n_dev;
	struct sv *ids;
	size_t n_ids;
	char (*chids)[37]; /* the computer's CHIDs, most specific first */
	size_t n_chids;
	struct sv feature_key; /* "AMD64.10.0"; empty when absent */
};

/*
 * Reads the driver-pass parameters of PARAMS into OUT. On a malformed or
 * oversized value returns WSD_EINVAL/WSD_ETOOBIG with *MESSAGE naming
 * the parameter (for the InvalidParameters fault); WSD_ENOMEM. OUT is
 * empty after a failure.
 */
int system_spec_parse(const struct soap_doc *d, const struct soap_elem *params,
    struct system_spec *out, const char **message,
    struct wsd_err *err) WSD_MUST_CHECK;
void system_spec_release(struct system_spec *s);

/* xs:dateTime seconds to yyyymmdd (UTC). */
int32_t spec_yyyymmdd(int64_t unix_sec);

#endif
