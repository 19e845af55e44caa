/* Helpers of the `osio disk` subcommands: sizes with units, the format a file
 * name implies, option checks and error messages, Ctrl-C as a polled flag,
 * and a progress line on stderr. */
#include "cli/disk_common.h"

#include "devices/block/block.h"
#include "hypervisor/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

int disk_parse_size(const char *s, const char *what, uint64_t *out)
{
	const char *p = s;
	uint64_t whole = 0, frac = 0, frac_div = 1;
	bool digits = false;

	while (isdigit((unsigned char)*p)) {
		unsigned d = (unsigned)(*p++ - '0');
		if (whole > (UINT64_MAX - d) / 10)
			goto too_big;
		whole = whole * 10 + d;
		digits = true;
	}
	if (*p == '.') {
		p++;
		while (isdigit((unsigned char)*p)) {
			if (frac_div >= 1000000)
				goto bad; /* more decimals than any size needs */
			frac = frac * 10 + (unsigned)(*p++ - '0');
			frac_div *= 10;
			digits = true;
		}
	}
	if (!digits)
		goto bad;

	unsigned shift = 0;
	switch (toupper((unsigned char)*p)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	case 'B':
	case '\0':
		break;
	default:
		goto bad;
	}
	if (shift) {
		p++;
		if (strcasecmp(p, "iB") == 0 || strcasecmp(p, "B") == 0)
			p += strlen(p);
	} else if (toupper((unsigned char)*p) == 'B') {
		p++;
	}
	if (*p)
		goto bad;

	if (whole > (UINT64_MAX >> shift))
		goto too_big;
	uint64_t unit = 1ull << shift;
	uint64_t bytes = whole << shift;
	/* frac < frac_div <= 10^6 < 2^20 and unit <= 2^40: no overflow. */
	uint64_t num = frac * unit;
	if (num % frac_div) {
		log_error("%s: '%s' is not a whole number of bytes; give a multiple of 512 bytes, "
			  "e.g. 20G or 1.5T",
			  what, s);
		return -EINVAL;
	}
	uint64_t fbytes = num / frac_div;
	if (bytes > UINT64_MAX - fbytes)
		goto too_big;
	bytes += fbytes;
	if (bytes > UINT64_MAX - BLOCK_SECTOR)
		goto too_big;
	if (bytes % BLOCK_SECTOR) {
		log_error(
		    "%s: %s is not a multiple of 512 bytes; round it, e.g. to %llu", what, s,
		    (unsigned long long)((bytes + BLOCK_SECTOR - 1) / BLOCK_SECTOR * BLOCK_SECTOR));
		return -EINVAL;
	}
	*out = bytes;
	return 0;
bad:
	log_error("%s: '%s' is not a size; give bytes or a number with K, M, G or T, e.g. 20G, "
		  "1.5T, 100M",
		  what, s);
	return -EINVAL;
too_big:
	log_error("%s: '%s' is too large", what, s);
	return -EINVAL;
}

const char *disk_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
	if (bytes < 1024) {
		snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
		return buf;
	}
	unsigned u = 0;
	double v = (double)bytes / 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	uint64_t one = 1ull << (10 * (u + 1));
	if (bytes % one == 0)
		snprintf(buf, len, "%llu %s", (unsigned long long)(bytes / one), units[u]);
	else
		snprintf(buf, len, "%.*f %s", v >= 100 ? 0 : v >= 10 ? 1 : 2, v, units[u]);
	return buf;
}

const char *disk_format_from_name(const char *path)
{
	static const struct {
		const char *ext, *format;
	} exts[] = {
	    {".vhdx", "vhdx"},	 {".avhdx", "vhdx"}, {".vhd", "vhd"}, {".avhd", "vhd"},
	    {".qcow2", "qcow2"}, {".img", "raw"},    {".raw", "raw"},
	};
	size_t n = strlen(path);
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
		size_t e = strlen(exts[i].ext);
		if (n > e && strcasecmp(path + n - e, exts[i].ext) == 0)
			return exts[i].format;
	}
	return "vhdx";
}

bool disk_known_format(const char *name)
{
	for (const char *const *f = block_formats; *f; f++)
		if (strcmp(*f, name) == 0)
			return true;
	return false;
}

/* --- Ctrl-C ---------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;
static struct sigaction old_int, old_term;

static void on_signal(int sig)
{
	interrupted = sig;
}

void disk_signals_catch(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	interrupted = 0;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
}

void disk_signals_restore(void)
{
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
}

bool disk_interrupted(void)
{
	return interrupted != 0;
}

/* --- progress ----------------------------------------------------------- */

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void disk_progress_init(struct disk_progress *p, const char *what, bool forced)
{
	memset(p, 0, sizeof(*p));
	p->tty = isatty(STDERR_FILENO);
	p->enabled = forced || p->tty;
	p->what = what;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	p->last = p->start;
}

void disk_progress_update(struct disk_progress *p, uint64_t done, uint64_t total)
{
	if (!p->enabled)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->drawn && done < total && seconds_between(&p->last, &now) < 0.2)
		return;
	p->last = now;
	double secs = seconds_between(&p->start, &now);
	double pct = total ? 100.0 * (double)done / (double)total : 100.0;
	char rate[32] = "";
	if (secs > 0.05) {
		char sz[24];
		disk_format_size((uint64_t)((double)done / secs), sz, sizeof(sz));
		snprintf(rate, sizeof(rate), ", %s/s", sz);
	}
	/* On a terminal the line is redrawn in place; elsewhere (--progress
	 * into a file) each update is a line of its own. */
	fprintf(stderr, "%s%s: %5.1f%%%s%s", p->tty ? "\r" : "", p->what, pct, rate,
		p->tty ? "\033[K" : "\n");
	fflush(stderr);
	p->drawn = true;
}

void disk_progress_end(struct disk_progress *p)
{
	if (p->enabled && p->drawn && p->tty)
		fputc('\n', stderr);
	p->drawn = false;
}

int disk_progress_cb(void *opaque, uint64_t done, uint64_t total)
{
	disk_progress_update(opaque, done, total);
	return disk_interrupted();
}

int disk_bad_option(int c, char **argv, const char *cmd)
{
	if (c == ':')
		log_error("%s needs a value (see osio disk %s --help)", argv[optind - 1], cmd);
	else
		log_error("unknown option '%s' (see osio disk %s --help)", argv[optind - 1], cmd);
	return 2;
}

int disk_resolve_format(const char *path, const char **format)
{
	if (!*format)
		*format = disk_format_from_name(path);
	if (!disk_known_format(*format)) {
		log_error("%s: unknown format '%s'; use vhdx, vhd, qcow2 or raw", path, *format);
		return 2;
	}
	return 0;
}

int disk_parse_type(const char *type, struct block_create_opts *o)
{
	if (strcmp(type, "fixed") == 0) {
		o->fixed = true;
	} else if (strcmp(type, "dynamic") != 0) {
		log_error("unknown disk type '%s'; use dynamic or fixed", type);
		return 2;
	}
	return 0;
}

int disk_parse_block_size(const char *arg, struct block_create_opts *o)
{
	uint64_t bs;

	if (!arg)
		return 0;
	if (disk_parse_size(arg, "--block-size", &bs) < 0)
		return 2;
	if (bs == 0 || bs > UINT32_MAX) {
		log_error("--block-size: %s is out of range", arg);
		return 2;
	}
	o->block_size = (uint32_t)bs;
	return 0;
}

void disk_log_failure(const char *path, const char *err, int r)
{
	if (err && err[0])
		log_error("%s", err);
	else
		log_error("%s: %s", path, strerror(-r));
}
