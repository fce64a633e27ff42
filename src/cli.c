/* The command line and the configuration file, read through the option table (options.c):
 * getopt_long over argv, [defaults], [stores] and [module NAME] sections, the exporter's
 * modules built from them; instants. */
#include "cli.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "options.h"

/* value, or config_dir/value when it is relative. */
static void config_path(char *path, size_t len, const char *config_dir, const char *value)
{
	if (value[0] == '/')
		snprintf(path, len, "%s", value);
	else
		snprintf(path, len, "%s/%s", config_dir, value);
}

/* What a configuration file said that modules are built from once it is read whole: the
 * [defaults] keys modules take, every [stores] entry and store password source (paths
 * resolved), each module's keys. */
enum key_kind {
	KEY_OPTION,        /* an option's config key, or a module's "stores" */
	KEY_STORE,         /* [stores]: key is the store's name, value its path */
	KEY_PASSWORD_FILE, /* [store_password_files]: key is the store, value the file */
	KEY_PASSWORD_ENV,  /* [store_password_env]: key is the store, value the variable */
};

struct file_key {
	char *module; /* NULL: not in a [module NAME] */
	enum key_kind kind;
	char *key, *value;
};

struct file_read {
	struct pcp_settings *s;
	struct file_key *keys;
	size_t n_keys;
};

static enum pcp_errc remember(struct file_read *fr, const char *module, enum key_kind kind,
                              const char *key, const char *value, struct pcp_error *err)
{
	struct file_key *grown = realloc(fr->keys, (fr->n_keys + 1) * sizeof *grown);
	struct file_key *k;

	if (!grown)
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	fr->keys = grown;
	k = &grown[fr->n_keys];
	*k = (struct file_key){.module = module ? strdup(module) : NULL,
	                       .kind = kind,
	                       .key = strdup(key),
	                       .value = strdup(value)};
	if ((module && !k->module) || !k->key || !k->value) {
		free(k->module);
		free(k->key);
		free(k->value);
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	}
	fr->n_keys++;
	return PCP_OK;
}

static void file_read_cleanup(struct file_read *fr)
{
	for (size_t i = 0; i < fr->n_keys; i++) {
		free(fr->keys[i].module);
		free(fr->keys[i].key);
		free(fr->keys[i].value);
	}
	free(fr->keys);
}

/* The next name of a "stores" list (names separated by commas or blanks): its length, 0 at
 * the end; *p moves past it. */
static size_t next_name(const char **p)
{
	size_t n;

	*p += strspn(*p, ", \t");
	n = strcspn(*p, ", \t");
	*p += n;
	return n;
}

static bool names_hold(const char *list, const char *name)
{
	size_t n;

	for (const char *p = list; (n = next_name(&p)) > 0;)
		if (n == strlen(name) && strncmp(p - n, name, n) == 0)
			return true;
	return false;
}

static bool name_ok(const char *name, size_t len)
{
	if (len == 0 || len > 64)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && !strchr("-_.", name[i]))
			return false;
	return true;
}

/* A key of [module NAME]: checked now (so the error names its line), applied once the whole
 * file is read (build_module). */
static enum pcp_errc module_key(struct file_read *fr, const char *name, const char *key,
                                const char *value, struct pcp_error *err)
{
	const struct pcp_option *o = pcp_option_for_module_key(key);
	struct pcp_settings scratch;
	enum pcp_errc rc;

	if (!name_ok(name, strlen(name)))
		return pcp_error_set(err, PCP_ERR_CONFIG,
		                     "[module %s]: a module name is 1 to 64 letters, digits, '-', "
		                     "'_' or '.'",
		                     name);
	if (strcmp(key, "stores") == 0) {
		const char *p = value;
		size_t n, count = 0;

		for (; (n = next_name(&p)) > 0; count++)
			if (!name_ok(p - n, n))
				return pcp_error_set(
				        err, PCP_ERR_CONFIG,
				        "[module %s]: stores \"%s\": expected store names", name,
				        value);
		if (!count)
			return pcp_error_set(err, PCP_ERR_CONFIG, "[module %s]: stores is empty",
			                     name);
		return remember(fr, name, KEY_OPTION, key, value, err);
	}
	if (!o)
		return pcp_error_set(err, PCP_ERR_CONFIG, "unknown key \"%s\" in [module %s]", key,
		                     name);
	pcp_settings_init(&scratch);
	rc = o->set(&scratch, value, err);
	pcp_settings_cleanup(&scratch);
	return rc ? PCP_ERR_CONFIG : remember(fr, name, KEY_OPTION, key, value, err);
}

/* Config files: [defaults] takes the table's config keys, [stores] takes NAME = PATH with
 * PATH relative to the file's directory, [store_password_files] NAME = FILE (relative
 * likewise), [store_password_env] NAME = VAR, and [module NAME] the module keys. */
static enum pcp_errc config_key(void *ctx, const char *section, const char *key, const char *value,
                                const char *config_dir, struct pcp_error *err)
{
	struct file_read *fr = ctx;
	struct pcp_settings *s = fr->s;
	char path[4096];

	if (strcmp(section, "stores") == 0) {
		if (!*value)
			return pcp_error_set(err, PCP_ERR_CONFIG, "store %s: path is empty", key);
		if (pcp_settings_store_known(s, key))
			return pcp_error_set(err, PCP_ERR_CONFIG, "duplicate store name \"%s\"",
			                     key);
		config_path(path, sizeof path, config_dir, value);
		if (pcp_settings_add_store(s, key, path, err))
			return PCP_ERR_CONFIG;
		return remember(fr, NULL, KEY_STORE, key, path, err);
	}
	if (strcmp(section, "store_password_files") == 0 ||
	    strcmp(section, "store_password_env") == 0) {
		bool file = strcmp(section, "store_password_files") == 0;

		if (!*value)
			return pcp_error_set(err, PCP_ERR_CONFIG, "store %s: %s is empty", key,
			                     file ? "password file" : "variable name");
		if (file)
			config_path(path, sizeof path, config_dir, value);
		if (pcp_settings_add_password(s, key, file ? PCP_PASSWORD_FILE : PCP_PASSWORD_ENV,
		                              file ? path : value, true, err))
			return PCP_ERR_CONFIG;
		return remember(fr, NULL, file ? KEY_PASSWORD_FILE : KEY_PASSWORD_ENV, key,
		                file ? path : value, err);
	}
	if (strcmp(section, "defaults") == 0) {
		for (size_t i = 0; i < pcp_n_options; i++)
			if (pcp_options[i].config_key &&
			    strcmp(pcp_options[i].config_key, key) == 0) {
				if (pcp_options[i].set(s, value, err))
					return PCP_ERR_CONFIG;
				return pcp_option_for_module_key(key)
				               ? remember(fr, NULL, KEY_OPTION, key, value, err)
				               : PCP_OK;
			}
		return pcp_error_set(err, PCP_ERR_CONFIG, "unknown key \"%s\" in [defaults]", key);
	}
	if (strncmp(section, "module", 6) == 0 && (section[6] == ' ' || section[6] == '\t'))
		return module_key(fr, section + 6 + strspn(section + 6, " \t"), key, value, err);
	return pcp_error_set(err, PCP_ERR_CONFIG, "unknown section [%s]", section);
}

/* The settings of module name: built-in defaults, the file's [defaults], the module's keys;
 * the file's stores, all or those named. Errors are PCP_ERR_CONFIG naming the module. */
static enum pcp_errc build_module(const struct file_read *fr, const char *name,
                                  struct pcp_module *m, struct pcp_error *err)
{
	struct pcp_settings *ms = &m->settings;
	const char *wanted = NULL, *p;
	size_t n;

	for (size_t i = 0; i < fr->n_keys; i++) {
		const struct file_key *k = &fr->keys[i];

		if (k->kind != KEY_OPTION || (k->module && strcmp(k->module, name) != 0))
			continue;
		if (strcmp(k->key, "stores") == 0)
			wanted = k->value;
		else if (pcp_option_for_module_key(k->key)->set(ms, k->value, err))
			return PCP_ERR_CONFIG;
	}
	for (size_t i = 0; i < fr->n_keys; i++)
		if (fr->keys[i].kind == KEY_STORE &&
		    (!wanted || names_hold(wanted, fr->keys[i].key)) &&
		    pcp_settings_add_store(ms, fr->keys[i].key, fr->keys[i].value, err))
			return PCP_ERR_CONFIG;
	/* The passwords of its Java truststores, handed over by check_listen. */
	for (size_t i = 0; i < fr->n_keys; i++) {
		const struct file_key *k = &fr->keys[i];

		if ((k->kind == KEY_PASSWORD_FILE || k->kind == KEY_PASSWORD_ENV) &&
		    pcp_settings_store_known(ms, k->key) &&
		    pcp_settings_add_password(ms, k->key,
		                              k->kind == KEY_PASSWORD_FILE ? PCP_PASSWORD_FILE
		                                                           : PCP_PASSWORD_ENV,
		                              k->value, true, err))
			return PCP_ERR_CONFIG;
	}
	for (p = wanted; p && (n = next_name(&p)) > 0;) {
		char store[65];

		snprintf(store, sizeof store, "%.*s", (int)n, p - n);
		if (!pcp_settings_store_known(ms, store))
			return pcp_error_set(err, PCP_ERR_CONFIG,
			                     "[module %s]: no store \"%s\" in [stores]", name,
			                     store);
	}
	if (ms->n_stores == 0)
		return pcp_error_set(err, PCP_ERR_CONFIG,
		                     "[module %s]: no stores: the file has no [stores]", name);
	if (ms->old_store && !pcp_settings_store_known(ms, ms->old_store))
		return pcp_error_set(err, PCP_ERR_CONFIG,
		                     "[module %s]: old_store %s: no store of that name", name,
		                     ms->old_store);
	if (ms->new_store && !pcp_settings_store_known(ms, ms->new_store))
		return pcp_error_set(err, PCP_ERR_CONFIG,
		                     "[module %s]: new_store %s: no store of that name", name,
		                     ms->new_store);
	return PCP_OK;
}

/* Every [module NAME] of the file, in the order they first appear. */
static enum pcp_errc build_modules(const struct file_read *fr, struct pcp_settings *s,
                                   struct pcp_error *err)
{
	for (size_t i = 0; i < fr->n_keys; i++) {
		const char *name = fr->keys[i].module;
		struct pcp_module *grown, *m;
		bool seen = false;
		enum pcp_errc rc;

		for (size_t j = 0; name && j < s->n_modules; j++)
			seen = seen || strcmp(s->modules[j].name, name) == 0;
		if (!name || seen)
			continue;
		if (!(grown = realloc(s->modules, (s->n_modules + 1) * sizeof *grown)))
			return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		s->modules = grown;
		m = &grown[s->n_modules++];
		pcp_settings_init(&m->settings);
		if (!(m->name = strdup(name)))
			return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
		if ((rc = build_module(fr, name, m, err))) {
			char inner[sizeof err->msg];

			snprintf(inner, sizeof inner, "%s", err->msg);
			return pcp_error_set(err, rc, "%s: %s", s->config_path, inner);
		}
	}
	return PCP_OK;
}

struct parsed_opt {
	const struct pcp_option *def;
	const char *value;
};

/* Blanks what follows NAME= in the --store-password values of argv (already copied), so
 * that other users no longer see the passwords in the process's command line. */
static void hide_passwords(const struct parsed_opt *seen, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *eq;

		if (seen[i].def->set != pcp_option_store_password)
			continue;
		/* getopt_long gives an option that takes a value its value; argv's strings are
		 * the process's own and writable. */
		assert(seen[i].value);
		if ((eq = strchr(seen[i].value, '=')))
			memset(eq + 1, '\0', strlen(eq + 1));
	}
}

/* Hands every password to its store spec; a password for a store that does not exist is
 * a usage error on the command line and a configuration error in the file. */
static enum pcp_errc attach_passwords(struct pcp_settings *s, struct pcp_error *err)
{
	static const char *const opts[] = {
	        [PCP_PASSWORD_LITERAL] = "--store-password",
	        [PCP_PASSWORD_FILE] = "--store-password-file",
	        [PCP_PASSWORD_ENV] = "--store-password-env",
	};

	for (size_t i = 0; i < s->n_passwords; i++) {
		struct pcp_password_spec *p = &s->passwords[i];
		struct pcp_store_spec *spec = NULL;

		for (size_t j = 0; j < s->n_stores && !spec; j++)
			if (strcmp(s->stores[j].name, p->store) == 0)
				spec = &s->stores[j];
		if (!spec && p->from_file)
			return pcp_error_set(
			        err, PCP_ERR_CONFIG,
			        "%s: [store_password_%s] names store %s, which [stores] "
			        "does not define",
			        s->config_path ? s->config_path : "configuration",
			        p->source == PCP_PASSWORD_FILE ? "files" : "env", p->store);
		if (!spec)
			return pcp_error_set(err, PCP_ERR_USAGE, "%s %s: no store of that name",
			                     opts[p->source], p->store);
		spec->pw_source = p->source;
		spec->pw = p->value;
		p->value = NULL;
	}
	return PCP_OK;
}

/* --listen: no targets, nothing that only a command-line run uses; modules built. */
static enum pcp_errc check_listen(const struct file_read *fr, struct pcp_settings *s,
                                  const struct parsed_opt *seen, size_t n_seen,
                                  struct pcp_error *err)
{
	if (s->n_targets || s->n_target_files || s->n_chains)
		return pcp_error_set(
		        err, PCP_ERR_USAGE,
		        "--listen: the exporter takes its targets from /probe requests, "
		        "not from the command line");
	for (size_t i = 0; i < n_seen; i++)
		if (pcp_option_run_only(seen[i].def))
			return pcp_error_set(err, PCP_ERR_USAGE,
			                     "--%s does not apply to the exporter (--listen)",
			                     seen[i].def->name);
	if (build_modules(fr, s, err))
		return err->code;
	for (size_t i = 0; i < s->n_modules; i++)
		if (attach_passwords(&s->modules[i].settings, err))
			return err->code;
	return PCP_OK;
}

size_t pcp_settings_instants(const struct pcp_settings *s, time_t now, time_t *out,
                             unsigned *now_mask)
{
	size_t n = 0;

	*now_mask = 0;
	if (s->n_ats)
		for (; n < s->n_ats; n++) {
			out[n] = s->ats_now[n] ? now : s->ats[n];
			*now_mask |= s->ats_now[n] ? 1u << n : 0;
		}
	else
		*now_mask = 1, out[n++] = now;
	for (size_t i = 0; i < s->n_require && n < PCP_MAX_INSTANTS; i++) {
		bool seen = false;

		if (!s->require[i].has_at)
			continue;
		for (size_t k = 0; k < n; k++)
			seen = seen || out[k] == s->require[i].at;
		if (!seen)
			out[n++] = s->require[i].at;
	}
	return n;
}

enum pcp_errc pcp_cli_parse(int argc, char **argv, struct pcp_settings *s, struct pcp_error *err)
{
	struct option longopts[pcp_n_options + 1];
	char shortopts[3 * pcp_n_options + 2];
	size_t ns = 0;
	struct parsed_opt *seen;
	size_t n_seen = 0, max_seen = 1;
	const char *config = NULL;
	struct file_read fr = {.s = s};
	enum pcp_errc rc = PCP_OK;
	int c, idx;

	/* A bundle like -4444 is one option per letter: each option found consumes at least
	 * one byte of the arguments, so their total length bounds the count. */
	for (int i = 1; i < argc; i++)
		max_seen += strlen(argv[i]);
	if (!(seen = calloc(max_seen, sizeof *seen)))
		return pcp_error_set(err, PCP_ERR_SYSTEM, "out of memory");
	shortopts[ns++] = ':'; /* report a missing argument distinctly */
	for (size_t i = 0; i < pcp_n_options; i++) {
		longopts[i] = (struct option){pcp_options[i].name,
		                              pcp_options[i].arg ? required_argument : no_argument,
		                              NULL, (int)(256 + i)};
		if (pcp_options[i].short_name) {
			shortopts[ns++] = (char)pcp_options[i].short_name;
			if (pcp_options[i].arg)
				shortopts[ns++] = ':';
		}
	}
	longopts[pcp_n_options] = (struct option){0};
	shortopts[ns] = '\0';

	/* Collect first: the configuration file must be applied before command-line values. */
	opterr = 0;
	optind = 0; /* 0, not 1: glibc then also resets its scan inside a bundle like -qV */
	while ((c = getopt_long(argc, argv, shortopts, longopts, &idx)) != -1) {
		const struct pcp_option *def = NULL;

		if (c >= 256) {
			def = &pcp_options[c - 256];
		} else if (c == '?' || c == ':') {
			const char *what = argv[optind - 1];

			if (optopt && optopt < 256)
				rc = pcp_error_set(err, PCP_ERR_USAGE,
				                   c == ':' ? "option -%c needs a value"
				                            : "unknown option -%c",
				                   optopt);
			else if (optopt >= 256 && c == ':')
				rc = pcp_error_set(err, PCP_ERR_USAGE, "option %s needs a value",
				                   what);
			else if (optopt >= 256)
				rc = pcp_error_set(err, PCP_ERR_USAGE, "option --%s takes no value",
				                   pcp_options[optopt - 256].name);
			else
				rc = pcp_error_set(err, PCP_ERR_USAGE, "unknown option %s", what);
			goto out;
		} else {
			for (size_t i = 0; i < pcp_n_options; i++)
				if (pcp_options[i].short_name == c)
					def = &pcp_options[i];
		}
		/* getopt_long returns only the table's short options (shortopts is built
		 * from it). */
		assert(def);
		if (def->set == pcp_option_config)
			config = optarg;
		seen[n_seen++] = (struct parsed_opt){def, optarg};
	}
	s->targets = (const char **)(argv + optind);
	s->n_targets = (size_t)(argc - optind);

	for (size_t i = 0; i < n_seen; i++)
		if (seen[i].def->set == pcp_option_help || seen[i].def->set == pcp_option_version)
			seen[i].def->set(s, NULL, err);
	if (s->help || s->version)
		goto out;

	if (config) {
		if ((rc = pcp_option_config(s, config, err)))
			goto out;
	} else {
		s->config_path = pcp_config_default_path();
	}
	if (s->config_path && (rc = pcp_config_read(s->config_path, config_key, &fr, err)))
		goto out;

	/* Command-line requirements replace the file's. */
	for (size_t i = 0; i < n_seen && !s->require_from_cli; i++)
		if (seen[i].def->set == pcp_option_require) {
			pcp_settings_clear_require(s);
			s->require_from_cli = true;
		}
	for (size_t i = 0; i < n_seen; i++) {
		if (seen[i].def->set == pcp_option_config)
			continue;
		if ((rc = seen[i].def->set(s, seen[i].value, err)))
			goto out;
	}
	if (!s->node_roots && s->config_path && (rc = pcp_settings_default_node_roots(s, err)))
		goto out;
	if (s->listen)
		rc = check_listen(&fr, s, seen, n_seen, err);
	else if (s->n_targets == 0 && s->n_target_files == 0 && s->n_chains == 0)
		rc = pcp_error_set(
		        err, PCP_ERR_USAGE,
		        "no targets: give TARGET arguments, --targets FILE or --chain FILE");
	if (!rc && s->n_stores == 0)
		rc = pcp_error_set(err, PCP_ERR_CONFIG,
		                   "no trust stores: give --store NAME=PATH or a configuration "
		                   "file with [stores]");
	if (!rc && s->save_chains) {
		struct stat st;

		if (stat(s->save_chains, &st) != 0 || !S_ISDIR(st.st_mode) ||
		    access(s->save_chains, W_OK) != 0)
			rc = pcp_error_set(err, PCP_ERR_USAGE,
			                   "--save-chains %s: not a writable directory",
			                   s->save_chains);
	}
	for (size_t i = 0; !rc && i < s->n_require; i++)
		if (!pcp_settings_store_known(s, s->require[i].store))
			rc = pcp_error_set(err, PCP_ERR_USAGE,
			                   "--require %s: no store of that name",
			                   s->require[i].text);
	if (!rc && s->old_store && !pcp_settings_store_known(s, s->old_store))
		rc = pcp_error_set(err, PCP_ERR_USAGE, "--old-store %s: no store of that name",
		                   s->old_store);
	if (!rc && s->new_store && !pcp_settings_store_known(s, s->new_store))
		rc = pcp_error_set(err, PCP_ERR_USAGE, "--new-store %s: no store of that name",
		                   s->new_store);
	if (!rc)
		rc = attach_passwords(s, err);
out:
	hide_passwords(seen, n_seen);
	file_read_cleanup(&fr);
	free(seen);
	return rc;
}

static bool digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static int num(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

enum pcp_errc pcp_cli_parse_time(const char *s, time_t *out, struct pcp_error *err)
{
	struct tm tm = {0};
	const char *p = s;
	long offset = 0;
	time_t t;

	if (s[0] == '@') {
		char *end;
		long long v;

		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (errno || end == s + 1 || *end)
			goto bad;
		/* Years 0000 to 9999: what RFC 3339 can write back in the records. */
		if (v < -62167219200LL || v > 253402300799LL)
			return pcp_error_set(err, PCP_ERR_USAGE,
			                     "time \"%s\": out of range (years 0000 to 9999)", s);
		*out = (time_t)v;
		return PCP_OK;
	}
	if (!digits(p, 4) || p[4] != '-' || !digits(p + 5, 2) || p[7] != '-' || !digits(p + 8, 2))
		goto bad;
	tm.tm_year = num(p, 4) - 1900;
	tm.tm_mon = num(p + 5, 2) - 1;
	tm.tm_mday = num(p + 8, 2);
	p += 10;
	if (*p) {
		if ((*p != 'T' && *p != 't' && *p != ' ') || !digits(p + 1, 2) || p[3] != ':' ||
		    !digits(p + 4, 2) || p[6] != ':' || !digits(p + 7, 2))
			goto bad;
		tm.tm_hour = num(p + 1, 2);
		tm.tm_min = num(p + 4, 2);
		tm.tm_sec = num(p + 7, 2);
		p += 9;
		if (*p == '.') {
			p++;
			if (!isdigit((unsigned char)*p))
				goto bad;
			while (isdigit((unsigned char)*p))
				p++;
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' &&
		           digits(p + 4, 2) && num(p + 1, 2) <= 23 && num(p + 4, 2) <= 59) {
			offset = (num(p + 1, 2) * 60L + num(p + 4, 2)) * 60L * (*p == '-' ? -1 : 1);
			p += 6;
		} else {
			goto bad;
		}
		if (*p)
			goto bad;
	}
	if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		goto bad;
	{
		/* Reject dates timegm would normalise (2021-02-30). */
		struct tm check = tm;

		t = timegm(&check);
		if (check.tm_mday != tm.tm_mday || check.tm_mon != tm.tm_mon)
			goto bad;
	}
	*out = t - offset;
	return PCP_OK;
bad:
	return pcp_error_set(err, PCP_ERR_USAGE,
	                     "time \"%s\": expected RFC 3339 (2021-02-15T00:00:00Z), a date "
	                     "(2021-02-15) or @UNIXSECONDS",
	                     s);
}
