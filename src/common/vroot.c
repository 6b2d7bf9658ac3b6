#include "vroot.h"

static const struct {
	const char *name;
	bool tls;
} vroots[VROOT_COUNT] = {
	[VROOT_SIMPLEAUTH] = { "SimpleAuthWebService", true },
	[VROOT_DSSAUTH] = { "DssAuthWebService", true },
	[VROOT_SERVERSYNC] = { "ServerSyncWebService", true },
	[VROOT_APIREMOTING] = { "ApiRemoting30", true },
	[VROOT_CLIENT] = { "ClientWebService", true },
	[VROOT_CONTENT] = { "Content", false },
	[VROOT_INVENTORY] = { "Inventory", false },
	[VROOT_REPORTING] = { "ReportingWebService", false },
	[VROOT_SELFUPDATE] = { "SelfUpdate", false },
};

const char *
vroot_name(enum vroot v)
{
	if (v < 0 || v >= VROOT_COUNT)
		return "-";
	return vroots[v].name;
}

bool
vroot_requires_tls(enum vroot v)
{
	if (v < 0 || v >= VROOT_COUNT)
		return false;
	return vroots[v].tls;
}
