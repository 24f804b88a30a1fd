-- 10^5 string appends of one character each. Prints 100000.
local function main()
  local s = ""
  for i = 1, 100000 do s = s .. "x" end
  return #s
end
print(main())
