/* Local APIC access for the guest programs (xAPIC MMIO, paging off). */
#include "lapic.h"
#include "io.h"
#include "timer.h"

u32 lapic_read(u32 reg)
{
	return mmio_read32(LAPIC_BASE + reg);
}

void lapic_write(u32 reg, u32 v)
{
	mmio_write32(LAPIC_BASE + reg, v);
}

u32 lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> 24;
}

void lapic_enable(void)
{
	lapic_write(LAPIC_SVR, 0x100 | 0xff);
}

void lapic_virtual_wire(void)
{
	lapic_enable();
	lapic_write(LAPIC_LVT_LINT0, 0x700); /* ExtINT, unmasked */
	lapic_write(LAPIC_LVT_LINT1, 0x400); /* NMI, unmasked */
}

bool lapic_send_ipi(u32 dest_apic_id, u32 icr_lo)
{
	struct timeout t;

	lapic_write(LAPIC_ICR_HI, dest_apic_id << 24);
	lapic_write(LAPIC_ICR_LO, icr_lo);
	timeout_start(&t, 100);
	while (lapic_read(LAPIC_ICR_LO) & ICR_PENDING)
		if (timeout_expired(&t))
			return false;
	return true;
}
