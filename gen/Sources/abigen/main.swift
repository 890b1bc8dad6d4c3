import AbigenCore
print(probe())
