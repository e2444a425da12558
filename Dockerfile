# One image for both roles: `npm run web` or `npm run worker` (see docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src
COPY web ./web
COPY worker ./worker
COPY scripts ./scripts
USER node
EXPOSE 3000
CMD ["npm", "run", "web"]
