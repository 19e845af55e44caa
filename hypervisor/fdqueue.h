/* Descriptors that travel over the control socket as SCM_RIGHTS, for both
 * ends (control.c, ctlclient.c): attaching one to the first byte of a
 * message, and a queue of received ones, each remembered with the stream
 * offset just past the bytes it came with, so that a line claims only its
 * own and unclaimed ones are closed instead of reaching a later line. */
#ifndef OSIO_FDQUEUE_H
#define OSIO_FDQUEUE_H

#include <stdbool.h>
#include <sys/socket.h>

#define FDQUEUE_MAX 16

struct fdqueue {
	struct {
		int fd;
		unsigned long long pos;
	} e[FDQUEUE_MAX];
	unsigned n;
	unsigned max; /* at most FDQUEUE_MAX; 0 means FDQUEUE_MAX */
};

/* Room for one descriptor's control message. */
union fdqueue_cmsg {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

/* Room for a full queue's worth in one recvmsg. */
union fdqueue_rx_cmsg {
	char buf[CMSG_SPACE(FDQUEUE_MAX * sizeof(int))];
	struct cmsghdr align;
};

/* Makes msg carry fd (not -1) as SCM_RIGHTS, in u. */
void fdqueue_attach(struct msghdr *msg, union fdqueue_cmsg *u, int fd);

/* Queues the descriptors of one recvmsg (msg), which came with the bytes
 * before stream offset pos. false when some did not fit or the control
 * data was cut short (those are closed): the peer breaks the protocol. */
bool fdqueue_take(struct fdqueue *q, struct msghdr *msg, unsigned long long pos);

/* The oldest descriptor if it came with bytes before line_end (the line
 * that claims it), else -1. */
int fdqueue_claim(struct fdqueue *q, unsigned long long line_end);

/* Closes the descriptors that came with bytes before line_end. */
void fdqueue_drop(struct fdqueue *q, unsigned long long line_end);

/* Closes every one. */
void fdqueue_clear(struct fdqueue *q);

#endif
