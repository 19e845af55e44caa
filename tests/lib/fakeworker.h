/* The worker's end of a control socket in tests that play the worker: a
 * line sent with or without a descriptor, a request line read. */
#ifndef OSIO_TESTS_LIB_FAKEWORKER_H
#define OSIO_TESTS_LIB_FAKEWORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Sends line whole on sock, with fd as SCM_RIGHTS when fd >= 0; whether
 * sendmsg took all of it. */
bool fakeworker_send(int sock, const char *line, int fd);
/* Reads one line from sock into buf (NUL-terminated, with its '\n'; at most
 * size - 1 bytes), waiting up to ms for each byte (-1: no limit). Its
 * length, or -1 when the peer closed, an error, or the wait ran out before
 * any byte. */
ssize_t fakeworker_recv_line(int sock, char *buf, size_t size, int ms);

#endif
