/* The emulated Intel 82540EM ("e1000") network adapter: PCI function,
 * register file (BAR0 MMIO and the IOADDR/IODATA window in BAR1),
 * interrupts with ITR throttling, link state, reset, and the device model.
 * EEPROM/PHY, transmit and receive live in e1000_eeprom.c, e1000_tx.c and
 * e1000_rx.c. */
#include "devices/net/e1000_int.h"
#include "hypervisor/bytes.h"
#include "hypervisor/fileio.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROM_MAX (1u << 20)

/* Plain registers: the guest's writes are kept (masked) and read back. */
struct reg_range {
	uint32_t off, count; /* first register, number of registers */
	uint32_t wmask;
};

static const struct reg_range plain_regs[] = {
    {E1000_CTRL_EXT, 1, 0xffffffffu},
    {E1000_FCAL, 1, 0xffffffffu},
    {E1000_FCAH, 1, 0x0000ffffu},
    {E1000_FCT, 1, 0x0000ffffu},
    {E1000_VET, 1, 0x0000ffffu},
    {E1000_ITR, 1, 0x0000ffffu},
    {E1000_RCTL, 1, 0x07fffffeu},
    {E1000_FCTTV, 1, 0x0000ffffu},
    {E1000_TXCW, 1, 0xc00001ffu},
    {E1000_TCTL, 1, 0x03fffffeu},
    {E1000_TIPG, 1, 0x3fffffffu},
    {E1000_AIT, 1, 0x0000ffffu},
    {E1000_LEDCTL, 1, 0xffffffffu},
    {E1000_PBA, 1, 0x0000ffffu},
    {E1000_FCRTL, 1, 0x8000fff8u},
    {E1000_FCRTH, 1, 0x0000fff8u},
    {E1000_RDBAL, 1, 0xfffffff0u},
    {E1000_RDBAH, 1, 0xffffffffu},
    {E1000_RDLEN, 1, 0x000fff80u},
    {E1000_RDH, 1, 0x0000ffffu},
    {E1000_RDT, 1, 0x0000ffffu},
    {E1000_RDTR, 1, 0x0000ffffu},
    {E1000_RXDCTL, 1, 0x01ff3f3fu},
    {E1000_RADV, 1, 0x0000ffffu},
    {E1000_RSRPD, 1, 0x00000fffu},
    {E1000_TXDMAC, 1, 0x00000001u},
    {E1000_TDBAL, 1, 0xfffffff0u},
    {E1000_TDBAH, 1, 0xffffffffu},
    {E1000_TDLEN, 1, 0x000fff80u},
    {E1000_TDH, 1, 0x0000ffffu},
    {E1000_TDT, 1, 0x0000ffffu},
    {E1000_TIDV, 1, 0x0000ffffu},
    {E1000_TXDCTL, 1, 0x01ff3f3fu},
    {E1000_TADV, 1, 0x0000ffffu},
    {E1000_TSPMT, 1, 0xffffffffu},
    {E1000_RXCSUM, 1, 0x000003ffu},
    {E1000_MTA, 128, 0xffffffffu},
    {E1000_RA, 32, 0xffffffffu}, /* RAH's reserved bits are masked on write below */
    {E1000_VFTA, 128, 0xffffffffu},
    {E1000_WUC, 1, 0x0000000fu},
    {E1000_WUFC, 1, 0x000000ffu},
    {E1000_MANC, 1, 0xffffffffu},
};

static const struct reg_range *plain_reg(uint32_t off)
{
	for (size_t i = 0; i < sizeof(plain_regs) / sizeof(plain_regs[0]); i++)
		if (off >= plain_regs[i].off && off < plain_regs[i].off + plain_regs[i].count * 4)
			return &plain_regs[i];
	return NULL;
}

/* --- interrupts ---------------------------------------------------------- */

static void irq_set(struct e1000 *e, bool level)
{
	if (e->irq_level == level)
		return;
	e->irq_level = level;
	pci_set_irq(&e->pci, level);
}

/* INTx follows ICR & IMS, but ITR keeps ITR * 256 ns between assertions. */
void e1000_update_irq(struct e1000 *e)
{
	bool want = (REG(e, E1000_ICR) & REG(e, E1000_IMS)) != 0;
	if (!want) {
		irq_set(e, false);
		return;
	}
	if (e->irq_level)
		return;
	uint64_t now = clock_ns();
	uint32_t itr = REG(e, E1000_ITR) & 0xffff;
	if (itr && now < e->irq_next_ns) {
		e1000_timer_arm(e, E1000_T_ITR, e->irq_next_ns - now, false);
		return;
	}
	e->irq_next_ns = now + (uint64_t)itr * 256;
	irq_set(e, true);
}

void e1000_set_ics(struct e1000 *e, uint32_t causes)
{
	REG(e, E1000_ICR) |= causes & ICR_MASK;
	e1000_update_irq(e);
}

static void timer_expired(void *opaque)
{
	struct e1000_timer *t = opaque;
	struct e1000 *e = t->e;
	pthread_mutex_lock(&e->lock);
	if (t->armed && !e->paused) {
		t->armed = false;
		switch (t->id) {
		case E1000_T_ITR:
			e1000_link_update(e); /* a change found by a load (e1000_load) */
			e1000_update_irq(e);
			break;
		case E1000_T_RDTR:
		case E1000_T_RADV:
			e1000_rx_timer_fire(e);
			break;
		case E1000_T_TIDV:
		case E1000_T_TADV:
			e1000_tx_timer_fire(e);
			break;
		case E1000_TIMERS:
			break;
		}
	}
	pthread_mutex_unlock(&e->lock);
}

void e1000_timer_arm(struct e1000 *e, enum e1000_timer_id id, uint64_t ns, bool restart)
{
	struct e1000_timer *t = &e->timers[id];
	if (t->armed && !restart)
		return;
	t->armed = true;
	if (e->paused) {
		t->left_ns = ns; /* armed when the device goes on */
		return;
	}
	t->deadline_ns = clock_ns() + ns;
	evtimer_arm(t->t, ns, 0);
}

void e1000_timer_cancel(struct e1000 *e, enum e1000_timer_id id)
{
	struct e1000_timer *t = &e->timers[id];
	if (!t->armed)
		return;
	t->armed = false;
	evtimer_cancel(t->t);
}

bool e1000_timer_armed(const struct e1000 *e, enum e1000_timer_id id)
{
	return e->timers[id].armed;
}

/* --- statistics ---------------------------------------------------------- */

/* The counters stick at their maximum, as the hardware's do. */
void e1000_stat_add(struct e1000 *e, unsigned idx, uint32_t n)
{
	uint32_t *r = &e->reg[E1000_STATS / 4 + idx];
	*r = *r > UINT32_MAX - n ? UINT32_MAX : *r + n;
}

void e1000_stat_add64(struct e1000 *e, unsigned lo, uint64_t n)
{
	uint32_t *r = &e->reg[E1000_STATS / 4 + lo];
	uint64_t v = ((uint64_t)r[1] << 32 | r[0]);
	v = v > UINT64_MAX - n ? UINT64_MAX : v + n;
	r[0] = (uint32_t)v;
	r[1] = (uint32_t)(v >> 32);
}

/* Reading a counter clears it; the 64-bit ones clear when their high
 * half is read (drivers read low, then high). */
static uint32_t stat_read(struct e1000 *e, unsigned idx)
{
	uint32_t *r = &e->reg[E1000_STATS / 4 + idx];
	uint32_t v = *r;
	switch (idx) {
	case ST_GORCL:
	case ST_GOTCL:
	case ST_TORL:
	case ST_TOTL:
		return v;
	case ST_GORCH:
	case ST_GOTCH:
	case ST_TORH:
	case ST_TOTH:
		r[-1] = 0;
		break;
	}
	*r = 0;
	return v;
}

/* --- link ---------------------------------------------------------------- */

/* STATUS.LU and the PHY follow the port and the PHY's power; CTRL.SLU
 * (or the PHY's auto-negotiation) lets the MAC see it. A change raises
 * LSC. */
bool e1000_mac_link(const struct e1000 *e)
{
	return e1000_phy_has_link(e) && ((REG(e, E1000_CTRL) & CTRL_SLU) || (e->phy[0] & 0x1000));
}

void e1000_link_update(struct e1000 *e)
{
	bool up = e1000_mac_link(e);
	e1000_phy_link(e);
	if (up == e->link_up)
		return;
	e->link_up = up;
	e1000_set_ics(e, ICR_LSC);
}

static uint32_t status_read(struct e1000 *e)
{
	uint32_t s = STATUS_FD | STATUS_SPEED_1000 | STATUS_ASDV_1000;
	if (e->link_up)
		s |= STATUS_LU;
	return s;
}

static void link_changed(void *opaque, bool up)
{
	struct e1000 *e = opaque;
	pthread_mutex_lock(&e->lock);
	e->port_up = up;
	if (!e->paused) /* else when it goes on */
		e1000_link_update(e);
	pthread_mutex_unlock(&e->lock);
}

bool e1000_dma_ok(struct e1000 *e)
{
	return pci_bus_master(&e->pci);
}

/* --- reset --------------------------------------------------------------- */

/* The MAC's power-on state (also CTRL.RST): everything but PCI and the
 * port. Returns whether a blocked port should be woken. */
static bool mac_reset(struct e1000 *e)
{
	for (unsigned i = 0; i < E1000_TIMERS; i++)
		e1000_timer_cancel(e, i);
	e->irq_next_ns = 0;
	memset(e->reg, 0, sizeof(e->reg));
	REG(e, E1000_CTRL) = CTRL_FD | CTRL_ASDE | CTRL_SLU;
	REG(e, E1000_VET) = 0x8100;
	REG(e, E1000_LEDCTL) = 0x07068302;
	REG(e, E1000_PBA) = 0x00100030;
	REG(e, E1000_TIPG) = 0x00602008;
	REG(e, E1000_RXCSUM) = RXCSUM_IPOFL | RXCSUM_TUOFL;
	REG(e, E1000_TXCW) = 0x000001a0; /* full duplex, pause capable */
	REG(e, E1000_MANC) = 0;
	REG(e, E1000_RA) = get_le32(e->mac);
	REG(e, E1000_RA + 4) = (uint32_t)get_le16(e->mac + 4) | RAH_AV;
	e->ioaddr = 0;
	e->eecd = 0;
	e->ee_bits_in = 0;
	e->ee_reading = false;
	e1000_phy_reset(e);
	e1000_tx_reset(e);
	irq_set(e, false);
	e->link_up = e1000_phy_has_link(e);
	e1000_phy_link(e);
	bool wake = e->rx_blocked;
	e->rx_blocked = false;
	return wake;
}

static void e1000_reset(void *state)
{
	struct e1000 *e = state;
	pci_device_reset(&e->pci);
	pthread_mutex_lock(&e->lock);
	bool wake = mac_reset(e);
	pthread_mutex_unlock(&e->lock);
	if (wake)
		net_port_wake(e->port);
}

/* --- registers ----------------------------------------------------------- */

static uint32_t reg_read(struct e1000 *e, uint32_t off)
{
	uint32_t v;
	switch (off) {
	case E1000_STATUS:
		return status_read(e);
	case E1000_EECD:
		return e1000_eecd_read(e);
	case E1000_ICR:
		v = REG(e, E1000_ICR);
		REG(e, E1000_ICR) = 0;
		e1000_update_irq(e);
		return v;
	case E1000_CTRL:
	case E1000_EERD:
	case E1000_MDIC:
	case E1000_IMS:
		return REG(e, off);
	}
	if (off >= E1000_STATS && off < E1000_STATS + E1000_NSTATS * 4)
		return stat_read(e, (off - E1000_STATS) / 4);
	if (plain_reg(off))
		return REG(e, off);
	return 0;
}

/* Returns whether the port should be woken (after unlocking). */
static bool reg_write(struct e1000 *e, uint32_t off, uint32_t val)
{
	switch (off) {
	case E1000_CTRL:
		if (val & CTRL_RST)
			return mac_reset(e);
		if ((val ^ REG(e, off)) & CTRL_PHY_RST && !(val & CTRL_PHY_RST))
			e1000_phy_reset(e); /* the end of a PHY reset pulse */
		REG(e, off) = val;
		e1000_link_update(e);
		return false;
	case E1000_EECD:
		e1000_eecd_write(e, val);
		return false;
	case E1000_EERD:
		e1000_eerd_write(e, val);
		return false;
	case E1000_MDIC:
		e1000_mdic_write(e, val);
		e1000_link_update(e); /* a PHY power-down or reset */
		return false;
	case E1000_ICR: /* writing 1s clears */
		REG(e, E1000_ICR) &= ~val;
		e1000_update_irq(e);
		return false;
	case E1000_ICS:
		e1000_set_ics(e, val);
		return false;
	case E1000_IMS:
		REG(e, E1000_IMS) |= val & ICR_MASK;
		e1000_update_irq(e);
		return false;
	case E1000_IMC:
		REG(e, E1000_IMS) &= ~val;
		e1000_update_irq(e);
		return false;
	case E1000_RDTR:
		REG(e, off) = val & 0xffff;
		if (val & RDTR_FPD &&
		    (e1000_timer_armed(e, E1000_T_RDTR) || e1000_timer_armed(e, E1000_T_RADV)))
			e1000_rx_timer_fire(e);
		return false;
	case E1000_TIDV:
		REG(e, off) = val & 0xffff;
		if (val & RDTR_FPD &&
		    (e1000_timer_armed(e, E1000_T_TIDV) || e1000_timer_armed(e, E1000_T_TADV)))
			e1000_tx_timer_fire(e);
		return false;
	}
	const struct reg_range *r = plain_reg(off);
	if (!r)
		return false;
	uint32_t v = val & r->wmask;
	if (off >= E1000_RA && off < E1000_RA + 128 && (off & 4))
		v &= 0x8003ffffu; /* RAH: AV, ASEL, the address's top 16 bits */
	REG(e, off) = v;
	switch (off) {
	case E1000_TDT:
	case E1000_TCTL:
		e1000_tx_run(e);
		break;
	case E1000_RDT:
	case E1000_RCTL:
	case E1000_RDLEN:
		return e1000_rx_should_wake(e);
	case E1000_ITR:
		e1000_update_irq(e);
		break;
	}
	return false;
}

/* Registers are 32 bits; narrower accesses see or change part of one
 * (a narrow write merges with the register's value), an 8-byte access is
 * two. */
static uint64_t access_read(struct e1000 *e, uint64_t off, unsigned size)
{
	if (off >= E1000_REGS_END)
		return 0;
	uint32_t base = (uint32_t)off & ~3u;
	uint64_t v = reg_read(e, base);
	if (size == 8 && base + 4 < E1000_REGS_END)
		v |= (uint64_t)reg_read(e, base + 4) << 32;
	if (size < 4)
		v = (v >> ((off & 3) * 8)) & ((1u << (size * 8)) - 1);
	return v;
}

static bool access_write(struct e1000 *e, uint64_t off, uint64_t val, unsigned size)
{
	if (off >= E1000_REGS_END)
		return false;
	uint32_t base = (uint32_t)off & ~3u;
	if (size < 4) {
		unsigned shift = (off & 3) * 8;
		uint32_t mask = ((1u << (size * 8)) - 1) << shift;
		uint32_t cur;
		switch (base) {
		case E1000_ICR: /* bits that clear, set or mask: the other bytes are 0 */
		case E1000_ICS:
		case E1000_IMS:
		case E1000_IMC:
			cur = 0;
			break;
		case E1000_EECD:
			cur = e->eecd;
			break;
		default:
			cur = REG(e, base);
		}
		val = (cur & ~mask) | ((uint32_t)val << shift & mask);
	}
	bool wake = reg_write(e, base, (uint32_t)val);
	if (size == 8 && base + 4 < E1000_REGS_END)
		wake |= reg_write(e, base + 4, (uint32_t)(val >> 32));
	return wake;
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	struct e1000 *e = opaque;
	pthread_mutex_lock(&e->lock);
	uint64_t v = access_read(e, off, size);
	pthread_mutex_unlock(&e->lock);
	return v;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct e1000 *e = opaque;
	pthread_mutex_lock(&e->lock);
	bool wake = access_write(e, off, val, size);
	pthread_mutex_unlock(&e->lock);
	if (wake)
		net_port_wake(e->port);
}

static const struct bus_ops mmio_ops = {.read = mmio_read, .write = mmio_write};

/* BAR1: IOADDR (offset 0) selects a register, IODATA (4) reaches it. */
static uint64_t io_read(void *opaque, uint64_t off, unsigned size)
{
	struct e1000 *e = opaque;
	uint64_t v = 0;
	pthread_mutex_lock(&e->lock);
	if (off < 4)
		v = e->ioaddr >> (off * 8);
	else if (off < 8)
		v = access_read(e, (e->ioaddr & 0x1fffc) + (off - 4), size > 4 ? 4 : size);
	pthread_mutex_unlock(&e->lock);
	return size >= 4 ? (uint32_t)v : v & ((1u << (size * 8)) - 1);
}

static void io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct e1000 *e = opaque;
	bool wake = false;
	pthread_mutex_lock(&e->lock);
	if (off == 0 && size >= 4)
		e->ioaddr = (uint32_t)val & 0x1ffffu;
	else if (off >= 4 && off < 8)
		wake = access_write(e, (e->ioaddr & 0x1fffc) + (off - 4), val, size > 4 ? 4 : size);
	pthread_mutex_unlock(&e->lock);
	if (wake)
		net_port_wake(e->port);
}

static const struct bus_ops io_ops = {.read = io_read, .write = io_write};

bool e1000_reg_loadable(struct e1000 *e, uint32_t off, uint32_t val)
{
	switch (off) {
	case E1000_CTRL:
		return !(val & CTRL_RST); /* a reset is over at once */
	case E1000_EERD:
	case E1000_MDIC:
		return true;
	case E1000_ICR:
	case E1000_IMS:
		return !(val & ~ICR_MASK);
	}
	if (off >= E1000_STATS && off < E1000_STATS + E1000_NSTATS * 4)
		return true;
	const struct reg_range *r = plain_reg(off);
	if (!r)
		return val == 0; /* read from elsewhere, or nothing: never stored */
	uint32_t mask = r->wmask;
	if (off >= E1000_RA && off < E1000_RA + 128 && (off & 4))
		mask &= 0x8003ffffu;
	/* e was just created: reg[] holds the power-on values. */
	return !(val & ~mask) || val == REG(e, off);
}

/* --- pause --------------------------------------------------------------- */

/* Paused: no frames from the port, timers stopped with the time they had
 * left, link changes held back; transmit runs only on the guest's register
 * writes, which a paused VM does not make. */
static void e1000_pause(void *state, bool paused)
{
	struct e1000 *e = state;
	if (paused)
		net_port_pause(e->port, true); /* a frame being received lands first */
	pthread_mutex_lock(&e->lock);
	uint64_t now = clock_ns();
	if (paused && !e->paused) {
		e->paused = true;
		for (unsigned i = 0; i < E1000_TIMERS; i++) {
			struct e1000_timer *t = &e->timers[i];
			if (!t->armed)
				continue;
			evtimer_cancel(t->t);
			t->left_ns = t->deadline_ns > now ? t->deadline_ns - now : 0;
		}
		e->irq_next_ns = e->irq_next_ns > now ? e->irq_next_ns - now : 0;
	} else if (!paused && e->paused) {
		e->paused = false;
		e->irq_next_ns += now;
		for (unsigned i = 0; i < E1000_TIMERS; i++) {
			struct e1000_timer *t = &e->timers[i];
			if (!t->armed)
				continue;
			t->deadline_ns = now + t->left_ns;
			evtimer_arm(t->t, t->left_ns ? t->left_ns : 1, 0);
		}
		e1000_link_update(e);
	}
	pthread_mutex_unlock(&e->lock);
	if (!paused)
		net_port_pause(e->port, false);
}

/* --- the model ----------------------------------------------------------- */

static int load_rom(struct e1000 *e, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;
		log_error(
		    "%s: cannot open the boot ROM %s: %s (install Debian's ipxe-qemu package, "
		    "or give rom=PATH to another one)",
		    e->id, path, strerror(err));
		return -err;
	}
	struct stat st;
	uint8_t *buf = NULL;
	int r;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 3 || st.st_size > ROM_MAX) {
		r = -EINVAL;
		log_error("%s: %s is not an option ROM (a file of 3 bytes to 1 MiB); give rom=PATH "
			  "to pxe-e1000.rom",
			  e->id, path);
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = file_pread_all(fd, buf, (size_t)st.st_size, 0)) < 0) {
		log_error("%s: cannot read the boot ROM %s: %s", e->id, path,
			  r == -ENODATA ? "short read" : strerror(-r));
		r = r == -ENODATA ? -EIO : r;
		goto out;
	}
	if (buf[0] != 0x55 || buf[1] != 0xaa) {
		r = -EINVAL;
		log_error("%s: %s is not an option ROM (no 55 AA signature); give rom=PATH to "
			  "pxe-e1000.rom",
			  e->id, path);
		goto out;
	}
	if ((r = pci_rom_init(&e->pci, buf, (size_t)st.st_size)) < 0)
		log_error("%s: cannot set up the ROM BAR for %s: %s", e->id, path, strerror(-r));
out:
	free(buf);
	close(fd);
	return r;
}

static const struct net_adapter_ops adapter_ops = {
    .receive = e1000_receive,
    .link_changed = link_changed,
};

static void e1000_destroy(void *state)
{
	struct e1000 *e = state;
	if (!e)
		return;
	net_port_destroy(e->port);
	if (e->pci.bus)
		pci_unregister(&e->pci);
	for (unsigned i = 0; i < E1000_TIMERS; i++)
		evtimer_free(e->timers[i].t);
	pthread_mutex_destroy(&e->lock);
	free(e->tx_buf);
	free(e->rx_buf);
	free(e);
}

static int setup_pci(struct e1000 *e, int slot, const char *rom)
{
	struct pci_device *d = &e->pci;
	pci_device_init(d, e->id, E1000_VENDOR, E1000_DEVICE, 0x020000, E1000_REVISION,
			E1000_SUBVENDOR, E1000_SUBSYSTEM, 1);
	d->opaque = e;
	struct pci_bar_desc mem = {
	    .size = E1000_MMIO_SIZE, .type = PCI_BAR_MEM32, .ops = &mmio_ops, .opaque = e};
	struct pci_bar_desc io = {
	    .size = E1000_IO_SIZE, .type = PCI_BAR_IO, .ops = &io_ops, .opaque = e};
	int r;
	if ((r = pci_bar_init(d, 0, &mem)) < 0 || (r = pci_bar_init(d, 1, &io)) < 0) {
		log_error("%s: cannot set up the e1000's BARs: %s", e->id, strerror(-r));
		return r;
	}
	if (rom && *rom && strcmp(rom, "none") && (r = load_rom(e, rom)) < 0)
		return r;
	if ((r = pci_register(e->m->pci, d, slot, 0)) < 0) {
		log_error("%s: cannot put the e1000 in PCI slot %d: %s", e->id, slot,
			  r == -EEXIST ? "the slot is taken" : strerror(-r));
		return r;
	}
	return 0;
}

static int e1000_create(struct machine *m, const char *id, const struct devargs *args, void **state)
{
	static const char *const keys[] = {NET_PORT_KEYS, "slot", "rom", NULL};
	int r = devargs_check_keys(args, "e1000", keys);
	if (r < 0)
		return r;
	if (!m->pci) {
		log_error("%s: the e1000 needs a PCI bus (add the i440fx host bridge first)", id);
		return -ENODEV;
	}
	uint64_t slot;
	if (devargs_u64(args, "slot", (uint64_t)-1, (uint64_t)-1, &slot) < 0 ||
	    (slot != (uint64_t)-1 && (slot == 0 || slot >= PCI_SLOTS))) {
		log_error("%s: slot must be 1-%d", id, PCI_SLOTS - 1);
		return -EINVAL;
	}
	struct e1000 *e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->m = m;
	snprintf(e->id, sizeof(e->id), "%s", id);
	pthread_mutex_init(&e->lock, NULL);
	e->tx_buf = malloc(E1000_TX_BUF);
	e->rx_buf = malloc(E1000_RX_MAX + E1000_FCS_LEN + E1000_MIN_FRAME);
	bool timers_ok = true;
	for (unsigned i = 0; i < E1000_TIMERS; i++) {
		e->timers[i] = (struct e1000_timer){.e = e, .id = i};
		e->timers[i].t = evtimer_new(m->loop, timer_expired, &e->timers[i]);
		timers_ok &= e->timers[i].t != NULL;
	}
	if (!e->tx_buf || !e->rx_buf || !timers_ok) {
		r = -ENOMEM;
		log_error("%s: cannot create the e1000: %s", id, strerror(-r));
		goto fail;
	}
	if ((r = setup_pci(e, slot == (uint64_t)-1 ? -1 : (int)slot, devargs_get(args, "rom"))) < 0)
		goto fail;
	if ((r = net_port_create(m, id, args, &adapter_ops, e, &e->port)) < 0)
		goto fail;
	net_port_mac(e->port, e->mac);
	pthread_mutex_lock(&e->lock);
	e->port_up = net_port_link_up(e->port);
	e1000_eeprom_init(e);
	mac_reset(e);
	pthread_mutex_unlock(&e->lock);
	*state = e;
	return 0;
fail:
	e1000_destroy(e);
	return r;
}

static const struct device_model e1000_model = {
    .name = "e1000",
    .description = "Intel 82540EM gigabit Ethernet adapter (PCI)",
    .create = e1000_create,
    .reset = e1000_reset,
    .destroy = e1000_destroy,
    .state_version = 1,
    .save = e1000_save,
    .load = e1000_load,
    .pause = e1000_pause,
};
DEVICE_MODEL(e1000_model);
