/* The machine's MSI hub: routes (GSI + eventfd + message) and ioeventfds,
 * kept here so that each new partition (backend) gets all of them, with the
 * slow paths used where the backend lacks the kernel feature. */
#include "hypervisor/msi.h"

#include "hypervisor/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

struct msi_route {
	struct machine *m;
	unsigned gsi;
	int fd;
	bool has_msg;
	bool bound; /* the backend bound fd to gsi: a write reaches the guest */
	struct msi_msg msg;
};

struct ioevent_node {
	struct ioeventfd ev;
	struct ioevent_node *next;
};

struct msi_hub {
	pthread_rwlock_t lock; /* read: send/fire; write: changes */
	const struct msi_backend_ops *ops;
	void *opaque;
	struct msi_route *routes[MSI_ROUTES_MAX]; /* by gsi - MSI_GSI_BASE */
	struct ioevent_node *ioevents;
};

int msi_hub_init(struct machine *m)
{
	struct msi_hub *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_rwlock_init(&h->lock, NULL);
	m->msi = h;
	return 0;
}

void msi_hub_destroy(struct machine *m)
{
	struct msi_hub *h = m->msi;
	if (!h)
		return;
	for (unsigned i = 0; i < MSI_ROUTES_MAX; i++)
		if (h->routes[i])
			log_warn("MSI route for GSI %u still held at machine destroy",
				 h->routes[i]->gsi);
	while (h->ioevents) {
		struct ioevent_node *n = h->ioevents;
		h->ioevents = n->next;
		free(n);
	}
	pthread_rwlock_destroy(&h->lock);
	free(h);
	m->msi = NULL;
}

/* Hands the backend the whole MSI routing table. Write lock held. */
static int push_routes(struct msi_hub *h)
{
	if (!h->ops || !h->ops->set_routes)
		return 0;
	unsigned gsis[MSI_ROUTES_MAX];
	struct msi_msg *msgs = calloc(MSI_ROUTES_MAX, sizeof(*msgs));
	if (!msgs)
		return -ENOMEM;
	unsigned n = 0;
	for (unsigned i = 0; i < MSI_ROUTES_MAX; i++) {
		struct msi_route *r = h->routes[i];
		if (r && r->has_msg) {
			gsis[n] = r->gsi;
			msgs[n++] = r->msg;
		}
	}
	int ret = h->ops->set_routes(h->opaque, gsis, msgs, n);
	free(msgs);
	return ret;
}

/* Binds a route's eventfd once it has a message and the backend can. */
static void bind_route(struct msi_hub *h, struct msi_route *r)
{
	if (r->bound || !r->has_msg || !h->ops || !h->ops->irqfd)
		return;
	r->bound = h->ops->irqfd(h->opaque, r->gsi, r->fd, true) == 0;
}

void *msi_set_backend(struct machine *m, const struct msi_backend_ops *ops, void *opaque)
{
	struct msi_hub *h = m->msi;
	if (!h)
		return NULL;
	pthread_rwlock_wrlock(&h->lock);
	void *old = h->opaque;
	/* The old backend's kernel objects go with its VM; unbind ours so
	 * that fire() uses the slow path until the new one binds them. */
	for (unsigned i = 0; i < MSI_ROUTES_MAX; i++) {
		struct msi_route *r = h->routes[i];
		if (r && r->bound && h->ops && h->ops->irqfd)
			h->ops->irqfd(h->opaque, r->gsi, r->fd, false);
		if (r)
			r->bound = false;
	}
	h->ops = ops;
	h->opaque = ops ? opaque : NULL;
	if (ops) {
		int e = push_routes(h);
		if (e < 0)
			log_warn("cannot set the MSI routes: %s", strerror(-e));
		for (unsigned i = 0; i < MSI_ROUTES_MAX; i++)
			if (h->routes[i] && e == 0)
				bind_route(h, h->routes[i]);
		for (struct ioevent_node *n = h->ioevents; n && ops->ioeventfd; n = n->next)
			ops->ioeventfd(opaque, &n->ev, true);
	}
	pthread_rwlock_unlock(&h->lock);
	return old;
}

int machine_msi_send(struct machine *m, struct msi_msg msg)
{
	struct msi_hub *h = m->msi;
	if (!h)
		return -ENODEV;
	pthread_rwlock_rdlock(&h->lock);
	int r = h->ops && h->ops->send ? h->ops->send(h->opaque, msg) : -ENODEV;
	pthread_rwlock_unlock(&h->lock);
	return r;
}

int msi_route_new(struct machine *m, struct msi_route **out)
{
	struct msi_hub *h = m->msi;
	if (!h)
		return -ENODEV;
	struct msi_route *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->m = m;
	r->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->fd < 0) {
		int e = -errno;
		free(r);
		return e;
	}
	pthread_rwlock_wrlock(&h->lock);
	unsigned i = 0;
	while (i < MSI_ROUTES_MAX && h->routes[i])
		i++;
	if (i < MSI_ROUTES_MAX) {
		r->gsi = MSI_GSI_BASE + i;
		h->routes[i] = r;
	}
	pthread_rwlock_unlock(&h->lock);
	if (i == MSI_ROUTES_MAX) {
		close(r->fd);
		free(r);
		return -ENOSPC;
	}
	*out = r;
	return 0;
}

int msi_route_set(struct msi_route *r, struct msi_msg msg)
{
	struct msi_hub *h = r->m->msi;
	pthread_rwlock_wrlock(&h->lock);
	int e = 0;
	if (!r->has_msg || r->msg.addr != msg.addr || r->msg.data != msg.data) {
		r->msg = msg;
		r->has_msg = true;
		e = push_routes(h);
		if (e == 0)
			bind_route(h, r);
		else if (r->bound && h->ops->irqfd) {
			/* The kernel keeps the old message: deliver from
			 * userspace instead of to the wrong place. */
			h->ops->irqfd(h->opaque, r->gsi, r->fd, false);
			r->bound = false;
		}
	}
	pthread_rwlock_unlock(&h->lock);
	return e;
}

int msi_route_fire(struct msi_route *r)
{
	struct msi_hub *h = r->m->msi;
	pthread_rwlock_rdlock(&h->lock);
	int e = 0;
	if (!r->has_msg) {
		e = -EINVAL;
	} else if (r->bound) {
		uint64_t one = 1;
		if (write(r->fd, &one, sizeof(one)) != sizeof(one))
			e = -errno;
	} else {
		e = h->ops && h->ops->send ? h->ops->send(h->opaque, r->msg) : -ENODEV;
	}
	pthread_rwlock_unlock(&h->lock);
	return e;
}

int msi_route_fd(const struct msi_route *r)
{
	return r->fd;
}

bool msi_route_in_kernel(const struct msi_route *r)
{
	struct msi_hub *h = r->m->msi;
	pthread_rwlock_rdlock(&h->lock);
	bool b = r->bound;
	pthread_rwlock_unlock(&h->lock);
	return b;
}

void msi_route_free(struct msi_route *r)
{
	if (!r)
		return;
	struct msi_hub *h = r->m->msi;
	pthread_rwlock_wrlock(&h->lock);
	if (r->bound && h->ops && h->ops->irqfd)
		h->ops->irqfd(h->opaque, r->gsi, r->fd, false);
	h->routes[r->gsi - MSI_GSI_BASE] = NULL;
	if (r->has_msg)
		push_routes(h);
	pthread_rwlock_unlock(&h->lock);
	close(r->fd);
	free(r);
}

static bool same_ioevent(const struct ioeventfd *a, const struct ioeventfd *b)
{
	return a->addr == b->addr && a->len == b->len && a->pio == b->pio &&
	       a->datamatch == b->datamatch && (!a->datamatch || a->data == b->data) &&
	       a->fd == b->fd;
}

int machine_ioeventfd_add(struct machine *m, const struct ioeventfd *ev)
{
	struct msi_hub *h = m->msi;
	if (!h)
		return -ENODEV;
	if (ev->fd < 0 || (ev->len != 1 && ev->len != 2 && ev->len != 4 && ev->len != 8))
		return -EINVAL;
	struct ioevent_node *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->ev = *ev;
	pthread_rwlock_wrlock(&h->lock);
	int e = 0;
	for (struct ioevent_node *o = h->ioevents; o; o = o->next)
		if (same_ioevent(&o->ev, ev))
			e = -EEXIST;
	if (e == 0) {
		n->next = h->ioevents;
		h->ioevents = n;
		if (h->ops && h->ops->ioeventfd)
			h->ops->ioeventfd(h->opaque, ev, true);
	}
	pthread_rwlock_unlock(&h->lock);
	if (e)
		free(n);
	return e;
}

int machine_ioeventfd_del(struct machine *m, const struct ioeventfd *ev)
{
	struct msi_hub *h = m->msi;
	if (!h)
		return -ENOENT;
	pthread_rwlock_wrlock(&h->lock);
	int e = -ENOENT;
	for (struct ioevent_node **p = &h->ioevents; *p; p = &(*p)->next) {
		struct ioevent_node *n = *p;
		if (!same_ioevent(&n->ev, ev))
			continue;
		*p = n->next;
		if (h->ops && h->ops->ioeventfd)
			h->ops->ioeventfd(h->opaque, &n->ev, false);
		free(n);
		e = 0;
		break;
	}
	pthread_rwlock_unlock(&h->lock);
	return e;
}
