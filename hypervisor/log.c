/* Diagnostics and trace switches for the whole worker. */
#include "hypervisor/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned trace_flags;
bool log_raw_terminal;
bool log_quiet;
static const char *prog = "osio";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct {
	const char *word;
	unsigned flag;
} trace_words[] = {
	{ "io", TRACE_IO },	{ "io-all", TRACE_IO_ALL | TRACE_IO },
	{ "exit", TRACE_EXIT }, { "dev", TRACE_DEV },
	{ "boot", TRACE_BOOT }, { "all", ~0u },
};

void log_set_prog(const char *name)
{
	prog = name;
}

void log_init(void)
{
	const char *env = getenv("OSIO_TRACE");
	if (!env || !*env)
		return;
	char *copy = strdup(env);
	if (!copy)
		return;
	char *save = NULL;
	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < sizeof(trace_words) / sizeof(trace_words[0]); i++) {
			if (strcmp(w, trace_words[i].word) == 0) {
				trace_flags |= trace_words[i].flag;
				break;
			}
		}
		if (i == sizeof(trace_words) / sizeof(trace_words[0]))
			log_warn("OSIO_TRACE: unknown category '%s' (known: io, io-all, exit, dev, boot, all)", w);
	}
	free(copy);
}

static void vlog(const char *level, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "%s: %s%s%s", prog, level, buf, log_raw_terminal ? "\r\n" : "\n");
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("error: ", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	if (log_quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void log_trace(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("trace: ", fmt, ap);
	va_end(ap);
}
