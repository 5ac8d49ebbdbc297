/* run_job.c - brine's C ABI end to end.
 *
 * Runs the demo job (fixtures/jobs/demo/job.yaml) with the guest's stdout
 * streamed through a callback, cancels a job that never ends
 * (examples/jobs/loop.yaml) from another thread, checks both reports and
 * that a bad job's error is located. Exits 0 when every check holds.
 *
 *   make capi-example     (builds libbrine_capi.a, compiles this, runs it)
 *
 * Run from the repository root: the job paths are relative to it. */
#include "brine.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int failures = 0;

#define CHECK(cond, ...)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);               \
            fprintf(stderr, __VA_ARGS__);                                      \
            fputc('\n', stderr);                                               \
            failures++;                                                        \
        }                                                                      \
    } while (0)

/* What the output callback saw; partitions may call it from several threads. */
struct seen {
    pthread_mutex_t lock;
    size_t stdout_bytes;
    int calls;
};

static void on_output(void *user, brine_stream stream, uint32_t partition,
                      const uint8_t *data, size_t len) {
    struct seen *seen = user;
    pthread_mutex_lock(&seen->lock);
    if (stream == BRINE_STREAM_STDOUT) {
        seen->stdout_bytes += len;
        printf("[guest %u] %.*s", partition, (int)len, (const char *)data);
        fflush(stdout);
    }
    seen->calls++;
    pthread_mutex_unlock(&seen->lock);
}

static void *cancel_later(void *token) {
    usleep(300 * 1000);
    brine_cancel(token);
    return NULL;
}

static void run_demo(void) {
    brine_job *job = brine_job_load("fixtures/jobs/demo/job.yaml");
    CHECK(job != NULL, "load: %s", brine_last_error().message);
    if (job == NULL)
        return;
    CHECK(brine_job_validate(job) == BRINE_STATUS_OK, "validate: %s",
          brine_last_error().message);

    struct seen seen = {.stdout_bytes = 0, .calls = 0};
    pthread_mutex_init(&seen.lock, NULL);
    brine_run_options options;
    memset(&options, 0, sizeof options);
    options.output_dir = "results/example-c/demo";
    options.force = true;
    options.receipt = true;
    options.on_output = on_output;
    options.user = &seen;

    brine_status status;
    brine_report *report = brine_run(job, &options, &status);
    CHECK(report != NULL && status == BRINE_STATUS_OK, "run: %s",
          brine_last_error().message);
    if (report != NULL) {
        int64_t code = -1;
        CHECK(brine_report_status(report) == 0, "the demo job completed");
        CHECK(brine_report_exit_code(report, &code) && code == 0,
              "exit code 0, got %lld", (long long)code);
        CHECK(!brine_report_cancelled(report), "not cancelled");
        CHECK(brine_report_partitions(report) == 1, "one partition");
        CHECK(brine_report_error(report, 0) == NULL, "no error");
        CHECK(strstr(brine_report_stdout(report, 0), "summarized") != NULL,
              "stdout in the report: %s", brine_report_stdout(report, 0));
        CHECK(seen.stdout_bytes == strlen(brine_report_stdout(report, 0)),
              "the callback saw all of stdout (%zu bytes)", seen.stdout_bytes);
        CHECK(brine_report_receipt_json(report) != NULL, "a receipt");
        CHECK(strstr(brine_report_summary_json(report, 0), "\"completed\"") != NULL,
              "summary JSON");
        printf("demo: completed, results in %s\n", brine_report_dir(report));
    }
    brine_report_free(report);
    brine_job_free(job);
    pthread_mutex_destroy(&seen.lock);
}

static void run_and_cancel(void) {
    brine_job *job = brine_job_load("examples/jobs/loop.yaml");
    CHECK(job != NULL, "load loop: %s", brine_last_error().message);
    if (job == NULL)
        return;
    brine_cancel_token *token = brine_cancel_token_new();
    brine_run_options options;
    memset(&options, 0, sizeof options);
    options.output_dir = "results/example-c/spin";
    options.force = true;
    options.cancel = token;

    pthread_t canceller;
    pthread_create(&canceller, NULL, cancel_later, token);
    brine_report *report = brine_run(job, &options, NULL);
    pthread_join(canceller, NULL);
    CHECK(report != NULL, "run loop: %s", brine_last_error().message);
    if (report != NULL) {
        CHECK(brine_report_status(report) == 1, "the cancelled job failed");
        CHECK(brine_report_cancelled(report), "the report says cancelled");
        const char *error = brine_report_error(report, 0);
        CHECK(error != NULL && strstr(error, "cancelled") != NULL, "error: %s",
              error ? error : "(none)");
        printf("spin: %s\n", error ? error : "(no error)");
    }
    brine_report_free(report);
    brine_cancel_token_free(token);
    brine_job_free(job);
}

static void bad_job_is_located(void) {
    brine_job *job = brine_job_parse("Type: wasm\nParams:\n  Entrypoint: 3\n", "bad.yaml");
    CHECK(job == NULL, "a bad job is refused");
    brine_error error = brine_last_error();
    CHECK(error.file != NULL && strcmp(error.file, "bad.yaml") == 0, "file: %s",
          error.file ? error.file : "(null)");
    CHECK(error.line > 0 && error.column > 0, "located at %u:%u", error.line,
          error.column);
    /* The message already starts with FILE:LINE:COLUMN, one line per problem. */
    printf("bad job (first problem at line %u, column %u):\n%s\n", error.line,
           error.column, error.message);
    brine_job_free(job);
    CHECK(brine_run(NULL, NULL, NULL) == NULL, "NULL arguments are refused");
    CHECK(strlen(brine_last_error().message) > 0, "and said so");
}

/* A company CA for HTTPS downloads: a file that is not there (or a build
 * without TLS) is refused, with the reason in brine_last_error. */
static void missing_ca_file_is_refused(void) {
    brine_status status = brine_trust_ca_file("/nonexistent/company-ca.pem");
    CHECK(status == BRINE_STATUS_REFUSED, "status %d", (int)status);
    CHECK(strlen(brine_last_error().message) > 0, "and said why");
    printf("extra CA refused: %s\n", brine_last_error().message);
}

int main(void) {
    printf("brine %s\n", brine_version());
    missing_ca_file_is_refused();
    run_demo();
    run_and_cancel();
    bad_job_is_located();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("all checks passed\n");
    return 0;
}
