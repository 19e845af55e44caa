/* Shared by the `osio disk` subcommands: sizes with units, the format a file
 * name implies, option checks and error messages, progress lines on stderr,
 * and Ctrl-C. */
#ifndef OSIO_CLI_DISK_COMMON_H
#define OSIO_CLI_DISK_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct block_create_opts;

/* Exit status of a command stopped by SIGINT or SIGTERM. */
#define DISK_EXIT_INTERRUPTED 130

/* "512", "100M", "20G", "1.5T" (K/M/G/T binary, an optional trailing "B" or
 * "iB"): 0, or -EINVAL with a message naming `what` on stderr. The result
 * is a multiple of 512 bytes. */
int disk_parse_size(const char *s, const char *what, uint64_t *out);
/* "20 GiB", "1.5 MiB", "512 bytes" into buf. */
const char *disk_format_size(uint64_t bytes, char *buf, size_t len);
/* The format a file's extension implies (.vhdx .avhdx .vhd .qcow2 .img
 * .raw), else "vhdx". */
const char *disk_format_from_name(const char *path);
/* Whether name is a format block_create knows. */
bool disk_known_format(const char *name);

/* getopt_long's ':' (an option without its value) or '?' for `osio disk
 * CMD`: logs which, with a pointer to --help, and returns exit status 2. */
int disk_bad_option(int c, char **argv, const char *cmd);
/* Sets *format from the file name when NULL; 0, or 2 with a message naming
 * path when it is not a format block_create knows. */
int disk_resolve_format(const char *path, const char **format);
/* --type dynamic|fixed into o->fixed, --block-size (NULL: the default) into
 * o->block_size: 0, or 2 with a message. */
int disk_parse_type(const char *type, struct block_create_opts *o);
int disk_parse_block_size(const char *arg, struct block_create_opts *o);
/* Logs a failed block_* call on path: its message in err (may be NULL), else
 * strerror(-r). */
void disk_log_failure(const char *path, const char *err, int r);

/* SIGINT/SIGTERM set a flag (no restart of the process' system calls is
 * needed: the flag is polled) until disk_signals_restore. */
void disk_signals_catch(void);
void disk_signals_restore(void);
bool disk_interrupted(void);

/* A one-line percentage with a rate on stderr, redrawn at most every 200 ms,
 * when enabled (stderr a terminal, or --progress). */
struct disk_progress {
	bool enabled;
	bool tty;
	bool drawn;
	struct timespec start, last;
	const char *what;
};

void disk_progress_init(struct disk_progress *p, const char *what, bool forced);
void disk_progress_update(struct disk_progress *p, uint64_t done, uint64_t total);
/* Ends the line (if one was drawn). */
void disk_progress_end(struct disk_progress *p);
/* A block_progress_fn: updates the struct disk_progress in opaque, returns
 * nonzero once SIGINT/SIGTERM arrived. */
int disk_progress_cb(void *opaque, uint64_t done, uint64_t total);

int disk_create_main(int argc, char **argv);
int disk_info_main(int argc, char **argv);
int disk_convert_main(int argc, char **argv);
int disk_resize_main(int argc, char **argv);
int disk_check_main(int argc, char **argv);
int disk_reconnect_main(int argc, char **argv);

#endif
