/* Guest RAM layout and allocation, and the buses/loop every machine has. */
#include "hypervisor/machine.h"

#include "hypervisor/input.h"
#include "hypervisor/log.h"
#include "hypervisor/msi.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int machine_init(struct machine *m)
{
	memset(m, 0, sizeof(*m));
	guestmem_init(&m->mem);
	m->legacy_slot = -1;
	pthread_mutex_init(&m->irq_lock, NULL);
	m->pio = bus_new("io", 0x10000);
	m->mmio = bus_new("mmio", 0);
	m->loop = evloop_new();
	m->input = input_router_new();
	if (!m->pio || !m->mmio || !m->loop || !m->input || msi_hub_init(m) < 0) {
		machine_destroy(m);
		return -ENOMEM;
	}
	return 0;
}

void machine_destroy(struct machine *m)
{
	msi_hub_destroy(m);
	bus_free(m->pio);
	bus_free(m->mmio);
	evloop_free(m->loop);
	input_router_free(m->input);
	m->pio = m->mmio = NULL;
	m->loop = NULL;
	m->input = NULL;
	pthread_mutex_destroy(&m->irq_lock);
	guestmem_destroy(&m->mem);
}

int machine_coalesce(struct machine *m, uint64_t addr, uint64_t size, bool pio)
{
	if (m->ncoalesced == MACHINE_COALESCED_ZONES)
		return -ENOSPC;
	m->coalesced[m->ncoalesced++] = (struct coalesced_zone){ addr, size, pio };
	return 0;
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

/* [gpa, gpa+size) of the low buffer as RAM, skipping empty pieces. */
static int map_low(struct machine *m, uint64_t gpa, uint64_t end, const char *name)
{
	if (end <= gpa)
		return -1; /* nothing to map: no slot */
	return guestmem_map(&m->mem, gpa, end - gpa, m->ram_low + gpa, 0, name);
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
	m->legacy_slot = -1;
	m->ram_low = alloc_region(low, hugepages);
	if (!m->ram_low) {
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
	m->ram_below_4g = low;
	int r = map_low(m, 0, low < VGA_START ? low : VGA_START, "ram-conventional");
	if (r >= 0 && low > SHADOW_START) {
		r = map_low(m, SHADOW_START, low < BIOS_AREA_END ? low : BIOS_AREA_END, "ram-shadow");
		m->legacy_slot = r;
	}
	if (r >= 0 && low > BIOS_AREA_END)
		r = map_low(m, BIOS_AREA_END, low, "ram-upper");
	if (r >= 0 && high) {
		m->ram_high = alloc_region(high, hugepages);
		if (!m->ram_high) {
			r = -errno;
			log_error("cannot reserve %llu MiB of guest RAM above 4 GiB%s: %s",
				  (unsigned long long)(high >> 20), hugepages ? " in huge pages" : "",
				  strerror(-r));
		} else {
			r = guestmem_map(&m->mem, HIGHMEM_START, high, m->ram_high, 0, "ram-high");
			m->ram_above_4g = high;
		}
	}
	if (r < -1) {
		machine_free_ram(m);
		return r;
	}
	return 0;
}

void machine_free_ram(struct machine *m)
{
	for (int i = 0; i < GUESTMEM_MAX_REGIONS; i++) {
		uint8_t *hva = m->mem.regions[i].hva;
		bool ours = (m->ram_low && hva >= m->ram_low && hva < m->ram_low + m->ram_below_4g) ||
			    (m->ram_high && hva >= m->ram_high && hva < m->ram_high + m->ram_above_4g);
		if (m->mem.regions[i].size && ours)
			guestmem_unmap(&m->mem, i);
	}
	if (m->ram_low)
		munmap(m->ram_low, m->ram_below_4g);
	if (m->ram_high)
		munmap(m->ram_high, m->ram_above_4g);
	m->ram_low = m->ram_high = NULL;
	m->ram_below_4g = m->ram_above_4g = 0;
	m->legacy_slot = -1;
}
