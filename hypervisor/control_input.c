/* Control API input commands: send-key (key combinations by name, such as
 * Ctrl+Alt+Del), input-key and input-pointer, through the input router.
 * Keys a client holds down are released when it goes. */
#include "hypervisor/control.h"

#include "hypervisor/input.h"
#include "hypervisor/keynames.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define COMBO_MAX 8

/* The keys this client holds down. */
struct held {
	unsigned char bits[(INPUT_KEY_MAX + 8) / 8];
};

static const char held_key;

static void release_held(struct control_client *c, void *data)
{
	struct held *h = data;
	for (unsigned k = 0; k <= INPUT_KEY_MAX; k++)
		if (h->bits[k / 8] & (1u << (k % 8)))
			input_key(control_machine(c), k, false);
	free(h);
}

/* A key as a name or a code; -1 (the failure described) if neither. */
static int key_arg(struct control_client *c, json_t *v, const char *what)
{
	if (json_is_integer(v)) {
		json_int_t k = json_integer_value(v);
		if (k < 1 || k > INPUT_KEY_MAX)
			return control_fail(c, CONTROL_E_INVALID, "%s: key code %lld is not 1..%d",
					    what, (long long)k, INPUT_KEY_MAX);
		return (int)k;
	}
	if (!json_is_string(v))
		return control_fail(c, CONTROL_E_INVALID, "%s: a key name or code is needed", what);
	int k = keyname_code(json_string_value(v));
	if (k < 0)
		return control_fail(c, CONTROL_E_INVALID, "%s: unknown key '%.40s'", what,
				    json_string_value(v));
	return k;
}

static int send_key(struct control_client *c, json_t *args, struct control_reply *reply,
		    void *opaque)
{
	unsigned codes[COMBO_MAX];
	int n = 0;
	json_t *keys = json_object_get(args, "keys");
	if (json_is_string(keys)) {
		char bad[40];
		n = keyname_combo(json_string_value(keys), codes, COMBO_MAX, bad, sizeof(bad));
		if (n == -E2BIG)
			return control_fail(c, CONTROL_E_INVALID, "keys: at most %d keys at once",
					    COMBO_MAX);
		if (n < 0)
			return control_fail(c, CONTROL_E_INVALID, "keys: unknown key '%s'", bad);
	} else if (json_is_array(keys)) {
		size_t i;
		json_t *v;
		if (json_array_size(keys) == 0 || json_array_size(keys) > COMBO_MAX)
			return control_fail(c, CONTROL_E_INVALID, "keys: 1 to %d keys", COMBO_MAX);
		json_array_foreach(keys, i, v)
		{
			int k = key_arg(c, v, "keys");
			if (k < 0)
				return k;
			codes[n++] = (unsigned)k;
		}
	} else {
		return control_fail(c, CONTROL_E_INVALID,
				    "keys: a combination such as \"ctrl-alt-delete\" or an array "
				    "of key names is needed");
	}
	input_key_combo(control_machine(c), codes, (unsigned)n);
	return 0;
}

static int input_key_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
			 void *opaque)
{
	int k = key_arg(c, json_object_get(args, "key"), "key");
	if (k < 0)
		return k;
	json_t *down = json_object_get(args, "down");
	if (!json_is_boolean(down))
		return control_fail(c, CONTROL_E_INVALID, "down: true or false is needed");
	struct held *h = control_client_get(c, &held_key);
	if (!h) {
		h = calloc(1, sizeof(*h));
		if (!h)
			return control_fail(c, CONTROL_E_FAILED, "out of memory");
		control_client_set(c, &held_key, h, release_held);
	}
	if (json_is_true(down))
		h->bits[k / 8] |= (unsigned char)(1u << (k % 8));
	else
		h->bits[k / 8] &= (unsigned char)~(1u << (k % 8));
	input_key(control_machine(c), (unsigned)k, json_is_true(down));
	return 0;
}

/* An optional integer argument in [lo, hi]; 0 or the failure. */
static int int_arg(struct control_client *c, json_t *args, const char *name, long lo, long hi,
		   long def, long *out)
{
	json_t *v = json_object_get(args, name);
	if (!v) {
		*out = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return control_fail(c, CONTROL_E_INVALID,
				    "%s: an integer from %ld to %ld is needed", name, lo, hi);
	*out = (long)json_integer_value(v);
	return 0;
}

static int input_pointer_cmd(struct control_client *c, json_t *args, struct control_reply *reply,
			     void *opaque)
{
	long buttons, dz, x, y, w, h, dx, dy;
	if (int_arg(c, args, "buttons", 0, 7, 0, &buttons) < 0 ||
	    int_arg(c, args, "dz", -127, 127, 0, &dz) < 0)
		return -1;
	bool abs = json_object_get(args, "x") || json_object_get(args, "y");
	bool rel = json_object_get(args, "dx") || json_object_get(args, "dy");
	if (abs && rel)
		return control_fail(c, CONTROL_E_INVALID,
				    "give x and y (absolute) or dx and dy (relative), not both");
	if (abs) {
		if (int_arg(c, args, "width", 1, 65535, -1, &w) < 0 ||
		    int_arg(c, args, "height", 1, 65535, -1, &h) < 0)
			return -1;
		if (w < 0 || h < 0)
			return control_fail(c, CONTROL_E_INVALID,
					    "width and height (the picture x and y refer to) are "
					    "needed with x and y");
		if (int_arg(c, args, "x", 0, w - 1, -1, &x) < 0 ||
		    int_arg(c, args, "y", 0, h - 1, -1, &y) < 0)
			return -1;
		if (x < 0 || y < 0)
			return control_fail(c, CONTROL_E_INVALID, "x and y are both needed");
		input_pointer_abs(control_machine(c), (unsigned)x, (unsigned)y, (unsigned)w,
				  (unsigned)h, (int)dz, (unsigned)buttons);
		return 0;
	}
	if (int_arg(c, args, "dx", -65535, 65535, 0, &dx) < 0 ||
	    int_arg(c, args, "dy", -65535, 65535, 0, &dy) < 0)
		return -1;
	input_pointer_rel(control_machine(c), (int)dx, (int)dy, (int)dz, (unsigned)buttons);
	return 0;
}

void control_input_register(struct control *ctl)
{
	control_register(ctl, "send-key", send_key, NULL);
	control_register(ctl, "input-key", input_key_cmd, NULL);
	control_register(ctl, "input-pointer", input_pointer_cmd, NULL);
}
