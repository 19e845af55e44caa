/* Diagnostics: one clear line per message on stderr, prefixed "osio:",
 * and trace categories switched on by OSIO_TRACE=io,exit,... */
#ifndef OSIO_LOG_H
#define OSIO_LOG_H

#include <stdbool.h>

enum trace_flag {
	TRACE_IO = 1u << 0,	/* port I/O and MMIO that no device claims */
	TRACE_IO_ALL = 1u << 1,	/* every port I/O and MMIO access */
	TRACE_EXIT = 1u << 2,	/* every VM exit */
	TRACE_DEV = 1u << 3,	/* device models' own notes */
	TRACE_BOOT = 1u << 4,	/* boot loader decisions */
};

extern unsigned trace_flags;

/* Reads OSIO_TRACE; call once at start. Unknown words are reported. */
void log_init(void);
/* Where messages go besides stderr (NULL: nowhere); the log file of a VM. */
void log_set_prog(const char *name);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline bool tracing(enum trace_flag f)
{
	return (trace_flags & f) != 0;
}

/* Set by the serial console while the terminal is in raw mode, so that
 * messages end with "\r\n" instead of "\n". */
extern bool log_raw_terminal;
/* -q: info messages are dropped. */
extern bool log_quiet;

#endif
