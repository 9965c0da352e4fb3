-- http-load.lua: wrk's script for the gateway's bench run (bench/run-bench):
-- the requests of specdex-load, as JSON POSTs to specdex-http, from the
-- same query file (QUERIES in the environment; op<TAB>q<TAB>levels<TAB>
-- sections lines), each connection starting at its own place in it.
-- Prints one CSV line at the end, in specdex-load's columns, so the
-- table shows it beside the daemon.
local queries = {}

local function split(s, sep)
  local out = {}
  for part in (s .. sep):gmatch("(.-)" .. sep) do out[#out + 1] = part end
  return out
end

local function list(s, quote)
  if s == nil or s == "" then return nil end
  local items = {}
  for _, v in ipairs(split(s, ",")) do
    items[#items + 1] = quote and ('"' .. v .. '"') or v
  end
  return "[" .. table.concat(items, ",") .. "]"
end

local function json_str(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function load(path, snippets)
  for line in io.lines(path) do
    if line ~= "" and line:sub(1, 1) ~= "#" and
        not (os.getenv("NO_LADDER") and line:sub(1, 7) == "ladder\t") then
      local f = split(line, "\t")
      local op, q = f[1], f[2]
      local parts = {'"q":' .. json_str(q)}
      if op ~= "ladder" then
        parts[#parts + 1] = '"limit":10'
        parts[#parts + 1] = '"snippet":' .. (snippets and "true" or "false")
        local lv = list(f[3], false)
        if lv then parts[#parts + 1] = '"levels":' .. lv end
      end
      local sec = list(f[4], true)
      if sec then parts[#parts + 1] = '"sections":' .. sec end
      queries[#queries + 1] = wrk.format("POST", "/v1/" .. op,
        {["Content-Type"] = "application/json"},
        "{" .. table.concat(parts, ",") .. "}")
    end
  end
end

local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  load(os.getenv("QUERIES"), os.getenv("NO_SNIPPET") == nil)
  at = (id * 37) % #queries
end

function request()
  at = at % #queries + 1
  return queries[at]
end

-- No response(): wrk would hand each reply's headers and body to Lua,
-- which costs more than the request itself.  A status of 400 and up is
-- counted by wrk (summary.errors.status), and every reply here is 200.
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read +
      summary.errors.write + summary.errors.timeout + summary.errors.status
  io.write(string.format(
    "csv:%d,%d,%.3f,%.0f,%d,%d,%d,%d,%d,%.0f,%.0f\n",
    summary.requests, errors, secs, summary.requests / secs,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    summary.bytes / math.max(summary.requests, 1)))
end
