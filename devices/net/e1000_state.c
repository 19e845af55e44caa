/* The e1000's saved state: PCI configuration, the register file (rings'
 * heads and tails, interrupt cause and mask, filters, statistics), the
 * EEPROM and its Microwire state, the PHY, the delay timers with the time
 * they had left, and the packet transmit was gathering. */
#include "devices/net/e1000_int.h"

#include "hypervisor/bytes.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const timer_names[E1000_TIMERS] = {
    [E1000_T_ITR] = "e1000.timer.itr",	 [E1000_T_RDTR] = "e1000.timer.rdtr",
    [E1000_T_RADV] = "e1000.timer.radv", [E1000_T_TIDV] = "e1000.timer.tidv",
    [E1000_T_TADV] = "e1000.timer.tadv",
};

/* A timer: 0 when it is not armed, else 1 + the nanoseconds it had left. */
static uint64_t timer_value(const struct e1000 *e, const struct e1000_timer *t, uint64_t now)
{
	if (!t->armed)
		return 0;
	if (e->paused)
		return 1 + t->left_ns;
	return 1 + (t->deadline_ns > now ? t->deadline_ns - now : 0);
}

static void save_tx(struct e1000 *e, struct vmstate_out *out)
{
	const struct e1000_tx_ctx *c = &e->ctx;
	uint8_t ctx[20];

	ctx[0] = c->ipcss;
	ctx[1] = c->ipcso;
	ctx[2] = c->tucss;
	ctx[3] = c->tucso;
	ctx[4] = c->tucmd;
	ctx[5] = c->hdr_len;
	put_le16(ctx + 6, c->ipcse);
	put_le16(ctx + 8, c->tucse);
	put_le16(ctx + 10, c->mss);
	put_le32(ctx + 12, c->paylen);
	memset(ctx + 16, 0, 4);
	vmstate_put_bytes(out, "e1000.tx.context", ctx, sizeof(ctx));
	vmstate_put_bool(out, "e1000.tx.first", e->tx_first);
	vmstate_put_bool(out, "e1000.tx.drop", e->tx_drop);
	vmstate_put_bool(out, "e1000.tx.tse", e->tx_tse);
	vmstate_put_bool(out, "e1000.tx.legacy", e->tx_legacy);
	vmstate_put_u64(out, "e1000.tx.popts", e->tx_popts);
	vmstate_put_u64(out, "e1000.tx.cso", e->tx_cso);
	vmstate_put_u64(out, "e1000.tx.css", e->tx_css);
	vmstate_put_u64(out, "e1000.tx.cmd", e->tx_cmd);
	/* The bytes gathered so far of a packet whose descriptors are done. */
	vmstate_put_bytes(out, "e1000.tx.data", e->tx_buf, e->tx_first ? 0 : e->tx_len);
}

void e1000_save(void *state, struct vmstate_out *out)
{
	struct e1000 *e = state;
	uint8_t *regs = malloc(E1000_REGS_END);
	uint8_t words[2 * E1000_EEPROM_WORDS]; /* the EEPROM, then the (smaller) PHY */

	pci_save(&e->pci, out);
	if (!regs) {
		if (!out->err)
			out->err = -ENOMEM;
		return;
	}
	pthread_mutex_lock(&e->lock);
	uint64_t now = clock_ns();
	for (unsigned i = 0; i < E1000_REGS_END / 4; i++)
		put_le32(regs + 4 * i, e->reg[i]);
	vmstate_put_bytes(out, "e1000.regs", regs, E1000_REGS_END);
	vmstate_put_u64(out, "e1000.ioaddr", e->ioaddr);
	vmstate_put_bool(out, "e1000.link_up", e->link_up);
	for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++)
		put_le16(words + 2 * i, e->eeprom[i]);
	vmstate_put_bytes(out, "e1000.eeprom", words, 2 * E1000_EEPROM_WORDS);
	vmstate_put_u64(out, "e1000.eecd", e->eecd);
	vmstate_put_u64(out, "e1000.ee_bits_in", e->ee_bits_in);
	vmstate_put_u64(out, "e1000.ee_val_in", e->ee_val_in);
	vmstate_put_bool(out, "e1000.ee_reading", e->ee_reading);
	vmstate_put_u64(out, "e1000.ee_bit_out", e->ee_bit_out);
	for (unsigned i = 0; i < E1000_PHY_REGS; i++)
		put_le16(words + 2 * i, e->phy[i]);
	vmstate_put_bytes(out, "e1000.phy", words, 2 * E1000_PHY_REGS);
	vmstate_put_bool(out, "e1000.irq_level", e->irq_level);
	uint64_t itr = e->paused ? e->irq_next_ns : e->irq_next_ns > now ? e->irq_next_ns - now : 0;
	vmstate_put_u64(out, "e1000.itr_wait_ns", itr);
	for (unsigned i = 0; i < E1000_TIMERS; i++)
		vmstate_put_u64(out, timer_names[i], timer_value(e, &e->timers[i], now));
	save_tx(e, out);
	pthread_mutex_unlock(&e->lock);
	free(regs);
}

_Static_assert(E1000_PHY_REGS <= E1000_EEPROM_WORDS, "e1000_save's buffer holds both");

/* Everything read and checked before any of it is taken. */
struct saved {
	uint32_t reg[E1000_REGS_END / 4];
	uint32_t ioaddr, eecd, ee_bits_in, ee_val_in, ee_bit_out;
	bool link_up, ee_reading, irq_level;
	uint16_t eeprom[E1000_EEPROM_WORDS], phy[E1000_PHY_REGS];
	uint64_t itr_wait, timer[E1000_TIMERS];
	struct e1000_tx_ctx ctx;
	bool tx_first, tx_drop, tx_tse, tx_legacy;
	uint8_t tx_popts, tx_cso, tx_css, tx_cmd;
	const uint8_t *tx_data;
	size_t tx_len;
};

static int read_regs(struct e1000 *e, struct vmstate_section *in, struct saved *s)
{
	uint8_t *regs = malloc(E1000_REGS_END);
	int r = -ENOMEM;

	if (!regs)
		return r;
	r = vmstate_get_bytes(in, "e1000.regs", regs, E1000_REGS_END);
	for (unsigned i = 0; r == 0 && i < E1000_REGS_END / 4; i++) {
		s->reg[i] = get_le32(regs + 4 * i);
		if (!e1000_reg_loadable(e, 4 * i, s->reg[i]))
			r = vmstate_fail(in, "e1000.regs: register %#x holds %#x, which it cannot",
					 4 * i, s->reg[i]);
	}
	free(regs);
	return r;
}

static int read_eeprom_phy(struct vmstate_section *in, struct saved *s)
{
	uint8_t w[2 * E1000_EEPROM_WORDS];

	if (vmstate_get_bytes(in, "e1000.eeprom", w, 2 * E1000_EEPROM_WORDS) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < E1000_EEPROM_WORDS; i++)
		s->eeprom[i] = get_le16(w + 2 * i);
	if (vmstate_get_u32(in, "e1000.eecd", EECD_SK | EECD_CS | EECD_DI | EECD_FWE | EECD_REQ,
			    &s->eecd) < 0 ||
	    vmstate_get_u32(in, "e1000.ee_bits_in", 9, &s->ee_bits_in) < 0 ||
	    vmstate_get_u32(in, "e1000.ee_val_in", 0x1ff, &s->ee_val_in) < 0 ||
	    vmstate_get_bool(in, "e1000.ee_reading", &s->ee_reading) < 0 ||
	    vmstate_get_u32(in, "e1000.ee_bit_out", E1000_EEPROM_WORDS * 16, &s->ee_bit_out) < 0)
		return -EINVAL;
	/* The bits of the Microwire state belong together: a read starts
	 * once its nine header bits are in, and shifts out only then. */
	if ((s->eecd & ~(EECD_SK | EECD_CS | EECD_DI | EECD_FWE | EECD_REQ)) ||
	    s->ee_val_in >> s->ee_bits_in || (s->ee_reading && s->ee_bits_in != 9) ||
	    (!s->ee_reading && s->ee_bit_out))
		return vmstate_fail(in, "e1000.eecd: the Microwire state does not hang together");
	if (vmstate_get_bytes(in, "e1000.phy", w, 2 * E1000_PHY_REGS) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < E1000_PHY_REGS; i++)
		s->phy[i] = get_le16(w + 2 * i);
	if (!e1000_phy_loadable(s->phy))
		return vmstate_fail(in, "e1000.phy: registers this PHY cannot have");
	return 0;
}

static int read_tx(struct vmstate_section *in, struct saved *s)
{
	uint8_t ctx[20];
	struct e1000_tx_ctx *c = &s->ctx;

	if (vmstate_get_bytes(in, "e1000.tx.context", ctx, sizeof(ctx)) < 0 ||
	    vmstate_get_bool(in, "e1000.tx.first", &s->tx_first) < 0 ||
	    vmstate_get_bool(in, "e1000.tx.drop", &s->tx_drop) < 0 ||
	    vmstate_get_bool(in, "e1000.tx.tse", &s->tx_tse) < 0 ||
	    vmstate_get_bool(in, "e1000.tx.legacy", &s->tx_legacy) < 0 ||
	    vmstate_get_u8(in, "e1000.tx.popts", 0xff, &s->tx_popts) < 0 ||
	    vmstate_get_u8(in, "e1000.tx.cso", 0xff, &s->tx_cso) < 0 ||
	    vmstate_get_u8(in, "e1000.tx.css", 0xff, &s->tx_css) < 0 ||
	    vmstate_get_u8(in, "e1000.tx.cmd", 0xff, &s->tx_cmd) < 0)
		return -EINVAL;
	c->ipcss = ctx[0];
	c->ipcso = ctx[1];
	c->tucss = ctx[2];
	c->tucso = ctx[3];
	c->tucmd = ctx[4];
	c->hdr_len = ctx[5];
	c->ipcse = get_le16(ctx + 6);
	c->tucse = get_le16(ctx + 8);
	c->mss = get_le16(ctx + 10);
	c->paylen = get_le32(ctx + 12);
	if (c->paylen > 0xfffff || get_le32(ctx + 16))
		return vmstate_fail(in, "e1000.tx.context: a payload length of %#x", c->paylen);
	/* As much as a packet may gather: a TSO packet, or one frame. */
	size_t max = s->tx_tse ? E1000_TX_BUF - E1000_VLAN_HLEN : NET_FRAME_MAX;
	s->tx_data = vmstate_get_blob(in, "e1000.tx.data", max, &s->tx_len);
	if (!s->tx_data)
		return -EINVAL;
	if (s->tx_first && s->tx_len)
		return vmstate_fail(in, "e1000.tx.data: bytes of a packet that has not begun");
	return 0;
}

static int read_all(struct e1000 *e, struct vmstate_section *in, struct saved *s)
{
	int r;

	if ((r = read_regs(e, in, s)) < 0 || (r = read_eeprom_phy(in, s)) < 0 ||
	    (r = read_tx(in, s)) < 0)
		return r;
	if (vmstate_get_u32(in, "e1000.ioaddr", 0x1ffff, &s->ioaddr) < 0 ||
	    vmstate_get_bool(in, "e1000.link_up", &s->link_up) < 0 ||
	    vmstate_get_bool(in, "e1000.irq_level", &s->irq_level) < 0 ||
	    vmstate_get_u64(in, "e1000.itr_wait_ns", 0xffffull * 256, &s->itr_wait) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < E1000_TIMERS; i++)
		if (vmstate_get_u64(in, timer_names[i], 1 + E1000_DELAY_MAX_NS, &s->timer[i]) < 0)
			return -EINVAL;
	return 0;
}

int e1000_load(void *state, struct vmstate_section *in)
{
	struct e1000 *e = state;
	struct saved *s = calloc(1, sizeof(*s));
	int r = -ENOMEM;

	if (!s)
		return r;
	if ((r = pci_load(&e->pci, in)) < 0)
		goto out;
	pthread_mutex_lock(&e->lock);
	r = read_all(e, in, s);
	if (r < 0) {
		pthread_mutex_unlock(&e->lock);
		goto out;
	}
	memcpy(e->reg, s->reg, sizeof(e->reg));
	e->ioaddr = s->ioaddr;
	memcpy(e->eeprom, s->eeprom, sizeof(e->eeprom));
	e->eecd = s->eecd;
	e->ee_bits_in = s->ee_bits_in;
	e->ee_val_in = s->ee_val_in;
	e->ee_reading = s->ee_reading;
	e->ee_bit_out = s->ee_bit_out;
	memcpy(e->phy, s->phy, sizeof(e->phy));
	e->ctx = s->ctx;
	e->tx_first = s->tx_first;
	e->tx_drop = s->tx_drop;
	e->tx_tse = s->tx_tse;
	e->tx_legacy = s->tx_legacy;
	e->tx_popts = s->tx_popts;
	e->tx_cso = s->tx_cso;
	e->tx_css = s->tx_css;
	e->tx_cmd = s->tx_cmd;
	memcpy(e->tx_buf, s->tx_data, s->tx_len);
	e->tx_len = s->tx_len;
	e->rx_blocked = false; /* the port is new: nothing waits in it */
	e->irq_level = s->irq_level;
	/* The PHY's status as the port is now; the MAC still shows the link
	 * the driver last saw, and a difference raises LSC once the machine
	 * runs (the ITR timer's expiry looks). */
	e->port_up = net_port_link_up(e->port);
	e1000_phy_link(e);
	e->link_up = s->link_up;
	uint64_t now = clock_ns();
	e->irq_next_ns = now + s->itr_wait;
	for (unsigned i = 0; i < E1000_TIMERS; i++)
		if (s->timer[i])
			e1000_timer_arm(e, i, s->timer[i] - 1 ? s->timer[i] - 1 : 1, true);
	if (e1000_mac_link(e) != e->link_up)
		e1000_timer_arm(e, E1000_T_ITR, 1, false);
	pthread_mutex_unlock(&e->lock);
	r = 0;
out:
	free(s);
	return r;
}
