/* Guest RAM layout and allocation, and the buses/loop every machine has. */
#include "hypervisor/machine.h"

#include "hypervisor/log.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int machine_init(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->irq_lock, NULL);
	m->pio = bus_new("io", 0x10000);
	m->mmio = bus_new("mmio", 0);
	m->loop = evloop_new();
	if (!m->pio || !m->mmio || !m->loop) {
		machine_destroy(m);
		return -ENOMEM;
	}
	return 0;
}

void machine_destroy(struct machine *m)
{
	bus_free(m->pio);
	bus_free(m->mmio);
	evloop_free(m->loop);
	m->pio = m->mmio = NULL;
	m->loop = NULL;
	pthread_mutex_destroy(&m->irq_lock);
}

int machine_irq_line(struct machine *m, unsigned gsi, struct irq_line *line)
{
	if (gsi >= MACHINE_GSIS)
		return -EINVAL;
	pthread_mutex_lock(&m->irq_lock);
	uint32_t used = m->irq_sources[gsi];
	int r = -ENOSPC;
	if (used != 0xffffffffu) {
		uint32_t bit = ~used & (used + 1); /* lowest free bit */
		m->irq_sources[gsi] |= bit;
		*line = (struct irq_line){ .m = m, .gsi = gsi, .bit = bit };
		r = 0;
	}
	pthread_mutex_unlock(&m->irq_lock);
	return r;
}

void irq_line_release(struct irq_line *line)
{
	if (!line->m)
		return;
	irq_line_set(line, false);
	pthread_mutex_lock(&line->m->irq_lock);
	line->m->irq_sources[line->gsi] &= ~line->bit;
	pthread_mutex_unlock(&line->m->irq_lock);
	*line = (struct irq_line){ 0 };
}

void irq_line_set(const struct irq_line *line, bool level)
{
	struct machine *m = line->m;
	if (!m)
		return;
	pthread_mutex_lock(&m->irq_lock);
	uint32_t before = m->irq_asserted[line->gsi];
	uint32_t after = level ? before | line->bit : before & ~line->bit;
	m->irq_asserted[line->gsi] = after;
	/* Forwarded under the lock, so the controller sees the levels in
	 * the order they were decided. */
	if ((before != 0) != (after != 0) && m->set_irq)
		m->set_irq(m->irq_opaque, line->gsi, after != 0);
	pthread_mutex_unlock(&m->irq_lock);
}

static void *alloc_region(uint64_t size, bool hugepages)
{
	/* Huge pages are reserved when mapped (no MAP_NORESERVE), so a host
	 * without enough of them refuses here instead of killing the VM with
	 * SIGBUS when the guest first touches a page. */
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	flags |= hugepages ? MAP_HUGETLB : MAP_NORESERVE;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (!hugepages)
		madvise(p, size, MADV_HUGEPAGE); /* a hint; fine if refused */
	madvise(p, size, MADV_DONTDUMP);
	return p;
}

int machine_alloc_ram(struct machine *m, uint64_t ram, bool hugepages)
{
	if (ram < MiB || ram % (4 * KiB)) {
		log_error("memory size %llu bytes: must be at least 1M and a multiple of 4K",
			  (unsigned long long)ram);
		return -EINVAL;
	}
	uint64_t low = ram >= PCI_HOLE_THRESHOLD ? LOWMEM_SPLIT : ram;
	uint64_t high = ram - low;
	if (hugepages && (low % (2 * MiB) || high % (2 * MiB))) {
		log_error("memory size with huge pages must be a multiple of 2M");
		return -EINVAL;
	}
	void *lo = alloc_region(low, hugepages);
	if (!lo) {
		int e = errno;
		if (hugepages)
			log_error("cannot reserve %llu MiB of guest RAM in huge pages: %s; reserve "
				  "them first (e.g. echo %llu > /proc/sys/vm/nr_hugepages as root) or "
				  "run without huge pages",
				  (unsigned long long)(ram >> 20), strerror(e),
				  (unsigned long long)((ram + 2 * MiB - 1) / (2 * MiB)));
		else
			log_error("cannot reserve %llu MiB of guest RAM: %s",
				  (unsigned long long)(low >> 20), strerror(e));
		return -e;
	}
	int r = guestmem_add(&m->mem, 0, low, lo, false, "ram-low");
	if (r == 0 && high) {
		void *hi = alloc_region(high, hugepages);
		if (!hi) {
			r = -errno;
			log_error("cannot reserve %llu MiB of guest RAM above 4 GiB%s: %s",
				  (unsigned long long)(high >> 20), hugepages ? " in huge pages" : "",
				  strerror(-r));
		} else {
			r = guestmem_add(&m->mem, HIGHMEM_START, high, hi, false, "ram-high");
		}
	}
	if (r < 0) {
		machine_free_ram(m);
		return r;
	}
	m->ram_below_4g = low;
	m->ram_above_4g = high;
	return 0;
}

void machine_free_ram(struct machine *m)
{
	for (unsigned i = 0; i < m->mem.n; i++)
		if (!m->mem.regions[i].readonly)
			munmap(m->mem.regions[i].hva, m->mem.regions[i].size);
	memset(&m->mem, 0, sizeof(m->mem));
	m->ram_below_4g = m->ram_above_4g = 0;
}
