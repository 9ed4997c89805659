-- wrk script: a different search on every request, so the page cache never answers and each
-- request runs the full-text query and renders the page. When a script that runs this one sets
-- MANY_CLIENTS = true first (or with the argument `many-clients` after the URL), every request
-- comes from another client address, as a proxy the server trusts names it: searches are limited
-- per client, and this measures the search itself rather than the limit. Without it, one address
-- floods.
local words = { "index", "database", "api", "password", "test", "debug", "cache", "career", "sql", "http" }
local n = 0
local many = MANY_CLIENTS == true

function init(args)
  many = many or args[1] == "many-clients"
end

request = function()
  n = n + 1
  local path = "/search?q=" .. words[(n % #words) + 1] .. "+" .. n
  local headers = {}
  if many then
    headers["X-Forwarded-For"] = "10." .. (n % 250) .. "." .. (math.floor(n / 250) % 250) .. ".1"
  end
  return wrk.format("GET", path, headers)
end
