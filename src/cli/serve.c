/*
 * scopegate serve: runs the gateway over stdio, or over Streamable HTTP on the --listen
 * addresses (or both, with --stdio), on a catalog directory, with the audit in a SQLite
 * file. A stdio client, and HTTP clients without --auth, act for one principal that the
 * operator names (flags, SCOPEGATE_* environment variables or a token); with --auth,
 * each HTTP client is the principal of the bearer token it presents. Downstream servers
 * the operator's principal can reach are started ahead of the first call. The process
 * ends when the stdio client closes stdin or on SIGINT or SIGTERM, after calls in flight
 * are cancelled and audited.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "admin/admin.h"
#include "admin/metrics.h"
#include "auth/auth.h"
#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "mcp/gateway.h"
#include "mcp/http_session.h"
#include "mcp/session.h"
#include "transport/stdio.h"
#include "downstream/secrets.h"

typedef struct {
  sg_gateway_t gw;
  sg_secrets_t *secrets;
  uv_signal_t sigint, sigterm, sighup;
  const char *catalog_dir;
  sg_conn_t *conn;
  sg_http_mcp_t *http;
  sg_admin_t *admin;
  int running; /* front ends (stdio, HTTP, admin) not yet ended */
  int stopping;
} serve_t;

static void usage(FILE *out) {
  fprintf(out,
          "usage: scopegate serve [--catalog DIR] [--db FILE] --role ROLE --tenant TENANT --env ENV\n"
          "                       [--subject SUBJECT] [--max-message BYTES] [--max-depth N]\n"
          "\n"
          "Serves MCP over stdio (or HTTP, below). The identity of a stdio instance, and of\n"
          "HTTP clients without --auth, comes from the operator:\n"
          "  --role      role in the capability matrix   (or SCOPEGATE_ROLE)\n"
          "  --tenant    tenant the calls are made for   (or SCOPEGATE_TENANT)\n"
          "  --env       environment                     (or SCOPEGATE_ENV)\n"
          "  --subject   who is calling (default local:$USER; or SCOPEGATE_SUBJECT)\n"
          "  --catalog   catalog directory (default: catalog; or SCOPEGATE_CATALOG)\n"
          "  --db        audit database (default: var/scopegate.db; or SCOPEGATE_DB)\n"
          "  --secrets   downstream credentials per tenant and env (or SCOPEGATE_SECRETS);\n"
          "              the file must be readable by its owner only\n"
          "  --auth       bearer-token verification settings (or SCOPEGATE_AUTH)\n"
          "  --token-file a bearer token (or the token itself in SCOPEGATE_TOKEN); it must\n"
          "               verify, and is then the identity: subject, tenant and env come\n"
          "               from it, and --role picks one of its roles\n"
          "With --listen and --auth, HTTP clients bring their own bearer tokens instead.\n"
          "  --tool-refusals error|result\n"
          "              how a refused tools/call is answered: a JSON-RPC error with the\n"
          "              reason in error.data (error, the default), or a tool result with\n"
          "              isError set and the reason in _meta (result), as servers built on\n"
          "              the official SDK report their own failures\n"
          "\n%s"
          "\nAdmin (approvals, the writes switch, the console and /metrics):\n"
          "  --admin-listen ADDR    serve the admin API on 127.0.0.1:PORT, [::1]:PORT or\n"
          "                         unix:/path (repeatable); needs --auth: requests carry\n"
          "                         the bearer token of a role \"approver\"\n",
          sg_http_mcp_usage);
}

/* The identity from the operator's bearer token, when there is one. It lives as long as
 * the process: principals borrow from it. */
static sg_identity_t token_identity;
/* The auth configuration, when given; HTTP sessions borrow it while the process lives. */
static sg_auth_t *auth_config;

/* Loads the auth configuration (when given) into *auth, which lives as long as the
 * process (HTTP clients' tokens are verified with it), and verifies the operator's token
 * (when given) into token_identity. Returns 0, or the exit status after saying why. */
static int verify_operator_token(const char *auth_path, const char *token_file,
                                 sg_auth_t **auth_out) {
  const char *token = getenv("SCOPEGATE_TOKEN");
  size_t len = token ? strlen(token) : 0;
  char buf[SG_AUTH_MAX_TOKEN_BYTES + 2];
  if (token_file) {
    FILE *f = fopen(token_file, "rb");
    if (f == NULL) {
      fprintf(stderr, "scopegate serve: cannot open %s: %s\n", token_file, strerror(errno));
      return 1;
    }
    /* One byte more than a token may have, so that an oversized one is refused as such. */
    len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
      len--;
    buf[len] = '\0';
    token = buf;
    if (len == 0) {
      fprintf(stderr, "scopegate serve: token file %s is empty\n", token_file);
      return 1;
    }
  }
  if (len == 0 && auth_path == NULL) return 0;
  if (len > 0 && auth_path == NULL) {
    fprintf(stderr,
            "scopegate serve: a token needs --auth FILE (or SCOPEGATE_AUTH) to verify it\n");
    return 2;
  }
  sg_auth_t *auth = NULL;
  char err[2048];
  if (sg_auth_load(auth_path, &auth, err, sizeof err) != 0) {
    fprintf(stderr, "scopegate serve: auth configuration is invalid:\n%s\n", err);
    return 1;
  }
  int rc = 0;
  if (len > 0)
    rc = sg_auth_verify(auth, token, len, (int64_t)time(NULL), &token_identity, err, sizeof err);
  *auth_out = auth;
  if (rc != 0) {
    fprintf(stderr, "scopegate serve: the token is refused: %s\n", err);
    return 1;
  }
  return 0;
}

static const char *flag_or_env(const char *flag, const char *env, const char *dflt) {
  if (flag) return flag;
  const char *v = getenv(env);
  return v && *v ? v : dflt;
}

/* Creates the database's directory when missing, so the default location just works. */
static void ensure_parent_dir(const char *path) {
  char copy[PATH_MAX];
  snprintf(copy, sizeof copy, "%s", path);
  char *dir = dirname(copy);
  struct stat st;
  if (stat(dir, &st) == 0) return;
  char partial[PATH_MAX] = "";
  for (char *tok = strtok(dir, "/"); tok; tok = strtok(NULL, "/")) {
    size_t n = strlen(partial);
    snprintf(partial + n, sizeof partial - n, "%s%s", (n || copy[0] == '/') ? "/" : "", tok);
    if (mkdir(partial, 0700) != 0 && errno != EEXIST) return;
  }
}

static void gateway_stopped(void *arg) {
  serve_t *sv = arg;
  uv_close((uv_handle_t *)&sv->sigint, NULL);
  uv_close((uv_handle_t *)&sv->sigterm, NULL);
  uv_close((uv_handle_t *)&sv->sighup, NULL);
}

static void pool_closed(void *arg) {
  serve_t *sv = arg;
  sg_gateway_stop(&sv->gw, gateway_stopped, sv);
}

/* Once every front end has ended, the downstream servers close. */
static void front_ended(serve_t *sv) {
  if (--sv->running == 0) sg_pool_close(sv->gw.pool, pool_closed, sv);
}

static void http_stopped(void *arg) { front_ended(arg); }

static void stop_http(serve_t *sv) {
  sg_http_mcp_t *http = sv->http;
  sv->http = NULL;
  if (http) sg_http_mcp_stop(http, http_stopped, sv);
}

static void admin_stopped(void *arg) { front_ended(arg); }

static void stop_admin(serve_t *sv) {
  sg_admin_t *admin = sv->admin;
  sv->admin = NULL;
  if (admin) sg_admin_stop(admin, admin_stopped, sv);
}

static void session_ended(void *arg) {
  serve_t *sv = arg;
  sv->conn = NULL;
  sg_info("client disconnected; shutting down");
  stop_http(sv);
  stop_admin(sv);
  front_ended(sv);
}

static void on_sighup(uv_signal_t *h, int signo) {
  (void)signo;
  serve_t *sv = h->data;
  if (!sv->stopping) sg_gateway_reload(&sv->gw, sv->catalog_dir);
}

static void on_signal(uv_signal_t *h, int signo) {
  serve_t *sv = h->data;
  if (sv->stopping++) return;
  sg_info("signal %d: shutting down", signo);
  /* Ending the client sessions cancels and audits their calls; then the downstream
   * servers close. */
  stop_http(sv);
  stop_admin(sv);
  if (sv->conn) sv->conn->handler->on_closed(sv->conn);
}

int sg_cli_serve(int argc, char **argv) {
  static const struct option opts[] = {
      {"catalog", required_argument, NULL, 'c'}, {"db", required_argument, NULL, 'd'},
      {"role", required_argument, NULL, 'r'},    {"tenant", required_argument, NULL, 't'},
      {"env", required_argument, NULL, 'e'},     {"subject", required_argument, NULL, 's'},
      {"max-message", required_argument, NULL, 'm'}, {"max-depth", required_argument, NULL, 'D'},
      {"secrets", required_argument, NULL, 'S'},
      {"auth", required_argument, NULL, 'A'}, {"token-file", required_argument, NULL, 'T'},
      {"stdio", no_argument, NULL, 1001},
      {"insecure-no-auth", no_argument, NULL, 1002},
      /* HTTP flags, all applied by sg_http_mcp_option under their own name. */
      {"listen", required_argument, NULL, 1000}, {"allow-origin", required_argument, NULL, 1000},
      {"allow-host", required_argument, NULL, 1000}, {"http-path", required_argument, NULL, 1000},
      {"max-connections", required_argument, NULL, 1000},
      {"max-sessions", required_argument, NULL, 1000},
      {"header-timeout-ms", required_argument, NULL, 1000},
      {"body-timeout-ms", required_argument, NULL, 1000},
      {"idle-timeout-ms", required_argument, NULL, 1000},
      {"session-idle-ms", required_argument, NULL, 1000},
      {"resource-url", required_argument, NULL, 1000},
      {"max-sessions-per-subject", required_argument, NULL, 1000},
      {"max-streams-per-subject", required_argument, NULL, 1000},
      {"admin-listen", required_argument, NULL, 1003},
      {"tool-refusals", required_argument, NULL, 1004},
      {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
  const char *catalog_dir = NULL, *db = NULL, *role = NULL, *tenant = NULL, *env = NULL,
             *subject = NULL;
  const char *secrets_path = NULL;
  const char *auth_path = NULL, *token_file = NULL;
  long max_message = SG_JSON_DEFAULT_MAX_BYTES, max_depth = SG_JSON_DEFAULT_MAX_DEPTH;
  sg_http_mcp_config_t http_cfg;
  sg_http_mcp_config_default(&http_cfg);
  sg_admin_config_t admin_cfg;
  memset(&admin_cfg, 0, sizeof admin_cfg);
  int use_stdio = 0, refusals_as_results = 0;
  char herr[256];
  int c, li = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, "h", opts, &li)) != -1) {
    switch (c) {
      case 1000:
        if (sg_http_mcp_option(&http_cfg, opts[li].name, optarg, herr, sizeof herr) != 0) {
          fprintf(stderr, "scopegate serve: %s\n", herr);
          return 2;
        }
        break;
      case 1001: use_stdio = 1; break;
      case 1002: http_cfg.insecure_no_auth = 1; break;
      case 1003:
        if (sg_admin_option_listen(&admin_cfg, optarg, herr, sizeof herr) != 0) {
          fprintf(stderr, "scopegate serve: %s\n", herr);
          return 2;
        }
        break;
      case 1004:
        if (strcmp(optarg, "error") != 0 && strcmp(optarg, "result") != 0) {
          fprintf(stderr, "scopegate serve: --tool-refusals is \"error\" or \"result\", not \"%s\"\n",
                  optarg);
          return 2;
        }
        refusals_as_results = strcmp(optarg, "result") == 0;
        break;
      case 'c': catalog_dir = optarg; break;
      case 'd': db = optarg; break;
      case 'r': role = optarg; break;
      case 't': tenant = optarg; break;
      case 'e': env = optarg; break;
      case 's': subject = optarg; break;
      case 'm': max_message = strtol(optarg, NULL, 10); break;
      case 'D': max_depth = strtol(optarg, NULL, 10); break;
      case 'S': secrets_path = optarg; break;
      case 'A': auth_path = optarg; break;
      case 'T': token_file = optarg; break;
      case 'h': usage(stdout); return 0;
      default: usage(stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "scopegate serve: unexpected argument '%s'\n", argv[optind]);
    usage(stderr);
    return 2;
  }
  catalog_dir = flag_or_env(catalog_dir, "SCOPEGATE_CATALOG", "catalog");
  db = flag_or_env(db, "SCOPEGATE_DB", "var/scopegate.db");
  role = flag_or_env(role, "SCOPEGATE_ROLE", NULL);
  tenant = flag_or_env(tenant, "SCOPEGATE_TENANT", NULL);
  env = flag_or_env(env, "SCOPEGATE_ENV", NULL);
  int token_status = verify_operator_token(flag_or_env(auth_path, "SCOPEGATE_AUTH", NULL),
                                           token_file, &auth_config);
  if (token_status != 0) return token_status;
  sg_auth_t *auth = auth_config;
  if (admin_cfg.nlisten && auth == NULL) {
    fprintf(stderr, "scopegate serve: --admin-listen needs --auth FILE: the admin API takes "
                    "the bearer tokens of approvers\n");
    return 2;
  }
  /* With --auth, HTTP clients are authenticated by their own tokens; the operator's
   * identity then serves only a stdio client, if there is one. */
  int bearer_http = auth && http_cfg.nlisten;
  int serve_stdio = use_stdio || !http_cfg.nlisten;
  if (bearer_http) {
    http_cfg.auth = auth;
    http_cfg.role = role; /* when given, every HTTP client acts in it */
    if (!serve_stdio && (token_identity.subject || tenant || env ||
                         flag_or_env(subject, "SCOPEGATE_SUBJECT", NULL))) {
      fprintf(stderr, "scopegate serve: with --listen and --auth, each HTTP client's identity "
                      "comes from its own bearer token: --token-file, --tenant, --env and "
                      "--subject (and their SCOPEGATE_* variables) apply only to a stdio client "
                      "(--stdio)\n");
      return 2;
    }
  }
  /* The operator's principal: for a stdio client, or for every HTTP client without
   * --auth. */
  int have_operator = serve_stdio || !bearer_http;
  if (token_identity.subject) {
    /* The token is the identity: nothing may contradict or extend it. */
    if (tenant || env || flag_or_env(subject, "SCOPEGATE_SUBJECT", NULL)) {
      fprintf(stderr, "scopegate serve: --tenant, --env and --subject (and their SCOPEGATE_* "
                      "variables) cannot be given with a token: the token is the identity\n");
      return 2;
    }
    if (role == NULL && token_identity.nroles == 1) role = token_identity.roles[0];
    if (role == NULL) {
      fprintf(stderr, "scopegate serve: the token grants %zu roles; choose one with --role\n",
              token_identity.nroles);
      return 2;
    }
    if (!sg_identity_has_role(&token_identity, role)) {
      fprintf(stderr, "scopegate serve: role \"%s\" is not among the token's roles\n", role);
      return 1;
    }
    subject = token_identity.subject;
    tenant = token_identity.tenant;
    env = token_identity.env;
  }
  char default_subject[128];
  struct passwd *pw = getpwuid(getuid());
  snprintf(default_subject, sizeof default_subject, "local:%s", pw ? pw->pw_name : "unknown");
  subject = flag_or_env(subject, "SCOPEGATE_SUBJECT", default_subject);
  if (have_operator && (!role || !tenant || !env)) {
    fprintf(stderr, "scopegate serve: the instance needs an identity: --role, --tenant and --env\n");
    usage(stderr);
    return 2;
  }
  if (max_message < 1024 || max_depth < 4 || max_depth > 1000) {
    fprintf(stderr, "scopegate serve: --max-message must be >= 1024 and --max-depth in 4..1000\n");
    return 2;
  }

  int status = 1;
  serve_t sv;
  memset(&sv, 0, sizeof sv);
  sg_buf_t errors;
  sg_buf_init(&errors);
  if (sg_catalog_load(catalog_dir, &sv.gw.catalog, &errors) != 0) {
    fprintf(stderr, "scopegate serve: catalog %s is invalid:\n%s", catalog_dir, errors.data ? errors.data : "");
    sg_buf_free(&errors);
    return 1;
  }
  sg_buf_free(&errors);
  const sg_role_t *r = role ? sg_catalog_role(sv.gw.catalog, role) : NULL;
  if (role && r == NULL) {
    fprintf(stderr, "scopegate serve: role \"%s\" is not in %s/matrix.json\n", role, catalog_dir);
    sg_catalog_unref(sv.gw.catalog);
    return 1;
  }
  secrets_path = flag_or_env(secrets_path, "SCOPEGATE_SECRETS", NULL);
  if (secrets_path) {
    char serr[512];
    if (sg_secrets_load(secrets_path, &sv.secrets, serr, sizeof serr) != 0) {
      fprintf(stderr, "scopegate serve: %s\n", serr);
      sg_catalog_unref(sv.gw.catalog);
      return 1;
    }
  }
  ensure_parent_dir(db);
  char err[512];
  /* The loop's handle never checkpoints (a checkpoint fsyncs); a second handle does,
   * on a worker thread. */
  sg_store_options_t store_opts = {.flags = SG_STORE_MANUAL_CHECKPOINT};
  if (sg_store_open_ex(db, &store_opts, &sv.gw.store, err, sizeof err) != 0 ||
      sg_store_open(db, &sv.gw.checkpoint_store, err, sizeof err) != 0) {
    fprintf(stderr, "scopegate serve: %s\n", err);
    sg_store_close(sv.gw.store);
    sg_secrets_free(sv.secrets);
    sg_catalog_unref(sv.gw.catalog);
    return 1;
  }

  signal(SIGPIPE, SIG_IGN);
  uv_loop_t loop;
  uv_loop_init(&loop);
  sv.gw.loop = &loop;
  sv.gw.limits.max_bytes = (size_t)max_message;
  sv.gw.limits.max_depth = (int)max_depth;
  unsigned char rnd[8];
  if (uv_random(NULL, NULL, rnd, sizeof rnd, 0, NULL) != 0) memset(rnd, 0, sizeof rnd);
  for (int i = 0; i < 8; i++) snprintf(sv.gw.instance + 2 * i, 3, "%02x", rnd[i]);
  sv.gw.tool_refusals_as_results = refusals_as_results;
  sg_ds_events_t events = {sg_gateway_on_tools, sg_gateway_on_resource_updated, &sv.gw};
  sv.gw.pool = sg_pool_new(&loop, sv.secrets, &events);
  sg_pool_set_catalog(sv.gw.pool, sv.gw.catalog);
  sg_gateway_start(&sv.gw);

  uv_signal_init(&loop, &sv.sigint);
  uv_signal_init(&loop, &sv.sigterm);
  uv_signal_init(&loop, &sv.sighup);
  sv.sigint.data = sv.sigterm.data = sv.sighup.data = &sv;
  sv.catalog_dir = catalog_dir;
  uv_signal_start(&sv.sigint, on_signal, SIGINT);
  uv_signal_start(&sv.sigterm, on_signal, SIGTERM);
  uv_signal_start(&sv.sighup, on_sighup, SIGHUP);

  sg_principal_t who = {subject, role, tenant, env, token_identity.claims};
  const sg_principal_t *operator_who = have_operator ? &who : NULL;
  sv.running = 1; /* held while the front ends start */
  int failed = 0;
  if (http_cfg.nlisten) {
    if (sg_http_mcp_start(&sv.gw, &http_cfg, operator_who, &sv.http, err, sizeof err) != 0) {
      fprintf(stderr, "scopegate serve: %s\n", err);
      failed = 1;
    } else {
      sv.running++;
    }
  }
  if (!failed && admin_cfg.nlisten) {
    admin_cfg.auth = auth;
    admin_cfg.db = db;
    if (sg_admin_start(&sv.gw, &admin_cfg, &sv.admin, err, sizeof err) != 0) {
      fprintf(stderr, "scopegate serve: %s\n", err);
      failed = 1;
    } else {
      sv.running++;
    }
  }
  if (!failed && (use_stdio || !http_cfg.nlisten)) {
    if (sg_stdio_open(&loop, (size_t)max_message, &sg_session_handler, NULL, &sv.conn) != 0) {
      failed = 1;
    } else {
      sv.running++;
      sg_session_new(&sv.gw, sv.conn, &who, session_ended, &sv);
    }
  }
  if (failed) {
    stop_http(&sv);
    stop_admin(&sv);
    front_ended(&sv); /* closes everything started so far */
    uv_run(&loop, UV_RUN_DEFAULT);
    goto done;
  }
  front_ended(&sv);

  /* Start the servers the operator's principal can reach, so the first call does not
   * wait. (HTTP clients with tokens start theirs, per tenant and env, on first use.) */
  for (size_t i = 0; have_operator && i < r->ngrants; i++) {
    sg_downstream_t *ds;
    char why[256];
    if (sg_pool_get(sv.gw.pool, r->grants[i].tool->server, tenant, env, &ds, why, sizeof why) != 0)
      sg_warn("%s; calls to its tools will be refused", why);
  }
  if (have_operator)
    sg_info("serving %s for subject %s (role %s, tenant %s, env %s)%s; audit in %s", catalog_dir,
            subject, role, tenant, env, bearer_http ? ", and HTTP clients by their tokens" : "",
            db);
  else
    sg_info("serving %s to HTTP clients by their bearer tokens; audit in %s", catalog_dir, db);

  uv_run(&loop, UV_RUN_DEFAULT);
  status = 0;
done:
  if (uv_loop_close(&loop) != 0) {
    sg_error("internal: handles left open at exit");
    status = 1;
  }
  sg_store_close(sv.gw.store);
  sg_store_close(sv.gw.checkpoint_store);
  sg_secrets_free(sv.secrets);
  sg_catalog_unref(sv.gw.catalog);
  sg_identity_free(&token_identity);
  sg_auth_free(auth_config);
  sg_metrics_reset();
  return status;
}
