-- wrk script for bench/api_load.py: a partner's mix of requests over the set-up's lines and loans.
-- The Python side writes API_LOAD_CONFIG: the key, line ids, loan ids, the kinds (repeated by weight)
-- and a run tag that keeps idempotency keys unique across runs on one database.

local function split(text)
    local items = {}
    for item in string.gmatch(text, "[^,]+") do
        items[#items + 1] = item
    end
    return items
end

local config = assert(io.open(os.getenv("API_LOAD_CONFIG")))
local key = config:read("*l")
local lines = split(config:read("*l"))
local loans = split(config:read("*l"))
local kinds = split(config:read("*l"))
local run_tag = config:read("*l")
config:close()

local threads = {}
local thread_number = 0

function setup(thread)
    thread_number = thread_number + 1
    thread:set("thread_number", thread_number)
    threads[#threads + 1] = thread
end

local sent = 0
local failed = 0
local counter = 0
local read_headers = { ["Authorization"] = "Bearer " .. key }
local write_headers = { ["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json" }

function init(args)
    math.randomseed(thread_number * 7919)
end

local function pick(items)
    return items[math.random(#items)]
end

local function post(path, body)
    counter = counter + 1
    write_headers["Idempotency-Key"] = string.format("%s-%d-%d", run_tag, thread_number, counter)
    return wrk.format("POST", path, write_headers, body)
end

function request()
    local kind = pick(kinds)
    local loan = pick(loans)
    local line = pick(lines)
    sent = sent + 1
    if kind == "get_loan" then
        return wrk.format("GET", "/api/v1/loans/" .. loan, read_headers)
    elseif kind == "get_schedule" then
        return wrk.format("GET", "/api/v1/loans/" .. loan .. "/schedule", read_headers)
    elseif kind == "get_credit_line" then
        return wrk.format("GET", "/api/v1/credit-lines/" .. line, read_headers)
    elseif kind == "list_loans" then
        return wrk.format("GET", "/api/v1/loans?credit_line_id=" .. line .. "&state=current&limit=20", read_headers)
    elseif kind == "payoff_quote" then
        return wrk.format("GET", "/api/v1/loans/" .. loan .. "/payoff-quote", read_headers)
    elseif kind == "quote" then
        local amount = pick({ "1000", "5000", "12000" })
        local term = pick({ "3", "6", "12" })
        return post("/api/v1/quotes", '{"amount": "' .. amount .. '", "term_months": ' .. term
            .. ', "method": "equal_installment", "credit_line_id": ' .. line .. '}')
    elseif kind == "drawdown" then
        return post("/api/v1/credit-lines/" .. line .. "/drawdowns",
            '{"amount": "500", "term_months": 3, "method": "equal_principal"}')
    elseif kind == "repayment" then
        return post("/api/v1/loans/" .. loan .. "/repayments", '{"amount": "10.00"}')
    end
    error("unknown kind " .. kind)
end

-- A global, so that done() can read each thread's count with thread:get().
server_failed = 0

function response(status, headers, body)
    if status >= 500 then
        server_failed = server_failed + 1
    end
    if status < 200 or status >= 300 then
        failed = failed + 1
        if failed <= 3 then
            io.stderr:write("HTTP " .. status .. ": " .. string.sub(body, 1, 300) .. "\n")
        end
    end
end

function done(summary, latency, requests)
    local errors = summary.errors
    local server_errors = 0
    for _, thread in ipairs(threads) do
        server_errors = server_errors + (thread:get("server_failed") or 0)
    end
    print(string.format(
        'RESULT {"requests": %d, "microseconds": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, '
            .. '"status_errors": %d, "socket_errors": %d, "server_errors": %d}',
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
        latency:percentile(99), latency.max, errors.status,
        errors.connect + errors.read + errors.write + errors.timeout, server_errors
    ))
end
