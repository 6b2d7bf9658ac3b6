#include "strparse.h"

#include <string.h>
#include <strings.h>

#include "wsd_err.h"

struct sv
sv_from_cstr(const char *s)
{
	return (struct sv){ s, strlen(s) };
}

bool
sv_eq(struct sv a, struct sv b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static unsigned char
lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

bool
sv_eq_ci(struct sv a, struct sv b)
{
	if (a.n != b.n)
		return false;
	for (size_t i = 0; i < a.n; i++)
		if (lower((unsigned char)a.p[i]) != lower((unsigned char)b.p[i]))
			return false;
	return true;
}

bool
sv_eq_cstr_ci(struct sv a, const char *s)
{
	return sv_eq_ci(a, sv_from_cstr(s));
}

bool
sv_starts_ci(struct sv a, struct sv prefix)
{
	if (a.n < prefix.n)
		return false;
	return sv_eq_ci((struct sv){ a.p, prefix.n }, prefix);
}

struct sv
sv_trim_ows(struct sv a)
{
	while (a.n > 0 && (a.p[0] == ' ' || a.p[0] == '\t')) {
		a.p++;
		a.n--;
	}
	while (a.n > 0 && (a.p[a.n - 1] == ' ' || a.p[a.n - 1] == '\t'))
		a.n--;
	return a;
}

int
strparse_u64(struct sv *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (s->n == 0 || s->p[0] < '0' || s->p[0] > '9')
		return WSD_EINVAL;
	for (; i < s->n && s->p[i] >= '0' && s->p[i] <= '9'; i++) {
		uint64_t d = (uint64_t)(s->p[i] - '0');

		if (v > (max - d) / 10)
			return WSD_ETOOBIG;
		v = v * 10 + d;
	}
	*out = v;
	s->p += i;
	s->n -= i;
	return 0;
}

int
strparse_u64_all(const char *str, uint64_t min, uint64_t max, uint64_t *out)
{
	struct sv s = sv_from_cstr(str);
	uint64_t v;
	int rc;

	if ((rc = strparse_u64(&s, max, &v)) < 0)
		return rc;
	if (s.n != 0)
		return WSD_EINVAL;
	if (v < min)
		return WSD_ETOOBIG;
	*out = v;
	return 0;
}

int
hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
strparse_char(struct sv *s, char c)
{
	if (s->n == 0 || s->p[0] != c)
		return WSD_EINVAL;
	s->p++;
	s->n--;
	return 0;
}

int
strparse_lit_ci(struct sv *s, const char *lit)
{
	struct sv l = sv_from_cstr(lit);

	if (!sv_starts_ci(*s, l))
		return WSD_EINVAL;
	s->p += l.n;
	s->n -= l.n;
	return 0;
}

void
strparse_ows(struct sv *s)
{
	while (s->n > 0 && (s->p[0] == ' ' || s->p[0] == '\t')) {
		s->p++;
		s->n--;
	}
}

char *
str_trim_line(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			    e[-1] == '\n'))
		*--e = '\0';
	return s;
}
