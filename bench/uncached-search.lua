-- wrk script: a different search on every request, so the page cache never answers and each
-- request runs the full-text query and renders the page.
local words = { "index", "database", "api", "password", "test", "debug", "cache", "career", "sql", "http" }
local n = 0
request = function()
  n = n + 1
  local path = "/search?q=" .. words[(n % #words) + 1] .. "&n=" .. n
  return wrk.format("GET", path)
end
