/* SCM_RIGHTS descriptors on the control socket: attaching, queueing in
 * arrival order, claiming by line, dropping what no line claimed. */
#include "hypervisor/fdqueue.h"

#include <string.h>
#include <unistd.h>

void fdqueue_attach(struct msghdr *msg, union fdqueue_cmsg *u, int fd)
{
	memset(u, 0, sizeof(*u));
	msg->msg_control = u->buf;
	msg->msg_controllen = sizeof(u->buf);
	struct cmsghdr *cm = CMSG_FIRSTHDR(msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
}

bool fdqueue_take(struct fdqueue *q, struct msghdr *msg, unsigned long long pos)
{
	unsigned max = q->max && q->max < FDQUEUE_MAX ? q->max : FDQUEUE_MAX;
	bool ok = !(msg->msg_flags & MSG_CTRUNC);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (q->n < max) {
				q->e[q->n].fd = fd;
				q->e[q->n].pos = pos;
				q->n++;
			} else {
				close(fd);
				ok = false;
			}
		}
	}
	return ok;
}

static int pop(struct fdqueue *q)
{
	int fd = q->e[0].fd;
	q->n--;
	memmove(q->e, q->e + 1, q->n * sizeof(q->e[0]));
	return fd;
}

int fdqueue_claim(struct fdqueue *q, unsigned long long line_end)
{
	return q->n && q->e[0].pos <= line_end ? pop(q) : -1;
}

void fdqueue_drop(struct fdqueue *q, unsigned long long line_end)
{
	while (q->n && q->e[0].pos <= line_end)
		close(pop(q));
}

void fdqueue_clear(struct fdqueue *q)
{
	while (q->n)
		close(pop(q));
}
