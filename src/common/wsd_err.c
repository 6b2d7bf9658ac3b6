#include "wsd_err.h"

const char *
wsd_strerror(int code)
{
	switch (code) {
	case WSD_OK:
		return "success";
	case WSD_EINVAL:
		return "invalid input";
	case WSD_ETOOBIG:
		return "limit exceeded";
	case WSD_ENOMEM:
		return "out of memory";
	case WSD_EIO:
		return "I/O error";
	case WSD_ENOTFOUND:
		return "not found";
	case WSD_EINTERNAL:
		return "internal error";
	case WSD_EUNSAT:
		return "unsatisfiable";
	case WSD_EPERM:
		return "not permitted";
	case WSD_EAGAIN:
		return "try again";
	case WSD_ETLS:
		return "TLS or certificate error";
	}
	return "unknown error";
}
