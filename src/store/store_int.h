/* Private to store_*.c: the common head of every backend's handle. */
#ifndef WSUSD_STORE_STORE_INT_H
#define WSUSD_STORE_STORE_INT_H

#include "store/store.h"

struct store {
	const struct store_ops *st_ops;
};

#endif
